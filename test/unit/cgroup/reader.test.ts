// The readers vnodefs renders /proc and /sys from, on fake v1 and v2 trees: limits
// (including "max" and v1's "unlimited"), the tightest ancestor, and missing files.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { CgroupReader, readLimit, setReadCacheTtl } from '../../../src/cgroup/index.js';
import { fakeTree } from '../../fixtures/cgroup/tree.js';

const MiB = 1024 * 1024;
const V1_UNLIMITED = '9223372036854771712\n';

before(() => setReadCacheTtl(0));

test('v2 memory: memory.current, the tightest memory.max up the tree, swap and memory.stat', () => {
  const root = fakeTree({
    'pod/memory.max': `${256 * MiB}\n`,
    'pod/memory.swap.max': 'max\n',
    'pod/ctr/memory.max': 'max\n',
    'pod/ctr/memory.current': `${10 * MiB}\n`,
    'pod/ctr/memory.swap.max': `${64 * MiB}\n`,
    'pod/ctr/memory.swap.current': '4096\n',
    'pod/ctr/memory.stat': 'anon 1000\nfile 2000\nshmem 30\n',
  });
  const m = new CgroupReader({ version: 2, path: join(root, 'pod/ctr') }).memory();
  assert.ok(m);
  assert.equal(m.limit, 256 * MiB, "the pod's limit applies to a container with memory.max max");
  assert.equal(m.usage, 10 * MiB);
  assert.equal(m.swapLimit, 64 * MiB);
  assert.equal(m.swapUsage, 4096);
  assert.deepEqual([...m.stat], [['anon', 1000], ['file', 2000], ['shmem', 30]]);
});

test('v2 memory: "max" everywhere is no limit; no memory.swap.max (swap accounting off) is no swap', () => {
  const root = fakeTree({ 'ctr/memory.max': 'max\n', 'ctr/memory.current': '5\n' });
  const m = new CgroupReader({ version: 2, path: join(root, 'ctr') }).memory();
  assert.ok(m);
  assert.equal(m.limit, null);
  assert.equal(m.swapLimit, 0);
  assert.equal(m.swapUsage, 0);
  assert.equal(m.stat.size, 0);
  const unlimitedSwap = new CgroupReader({ version: 2, path: join(fakeTree({ 'c/memory.current': '1\n', 'c/memory.swap.max': 'max\n' }), 'c') }).memory();
  assert.equal(unlimitedSwap?.swapLimit, null);
});

test('memory of a cgroup without the usage file is unknown (the generator falls back to the host)', () => {
  const root = fakeTree({ 'ctr/memory.max': '100\n' });
  assert.equal(new CgroupReader({ version: 2, path: join(root, 'ctr') }).memory(), undefined);
  assert.equal(new CgroupReader({ version: 1, paths: { memory: join(root, 'ctr') } }).memory(), undefined);
  assert.equal(new CgroupReader({ version: 1, paths: {} }).memory(), undefined, 'no memory controller');
});

test('v1 memory: limit_in_bytes, hierarchical limit, memsw as swap beyond the limit, total_* stat under v2 names', () => {
  const root = fakeTree({
    'memory/ctr/memory.usage_in_bytes': `${20 * MiB}\n`,
    'memory/ctr/memory.limit_in_bytes': V1_UNLIMITED,
    'memory/ctr/memory.memsw.limit_in_bytes': `${192 * MiB}\n`,
    'memory/ctr/memory.memsw.usage_in_bytes': `${21 * MiB}\n`,
    'memory/ctr/memory.stat': `cache 1\nrss 2\nhierarchical_memory_limit ${128 * MiB}\nhierarchical_memsw_limit ${192 * MiB}\ntotal_cache 4096\ntotal_rss 8192\ntotal_shmem 16\ntotal_unevictable 0\n`,
  });
  const m = new CgroupReader({ version: 1, paths: { memory: join(root, 'memory/ctr') } }).memory();
  assert.ok(m);
  assert.equal(m.limit, 128 * MiB, 'the hierarchical limit when the own one is unlimited');
  assert.equal(m.usage, 20 * MiB);
  assert.equal(m.swapLimit, 64 * MiB, 'memsw limit minus the memory limit');
  assert.equal(m.swapUsage, 1 * MiB);
  assert.deepEqual(Object.fromEntries(m.stat), { file: 4096, anon: 8192, shmem: 16, unevictable: 0 }, 'only total_* values, renamed');
});

test('v1 memory: unlimited everywhere is no limit; no memsw files is no swap', () => {
  const root = fakeTree({
    'memory/ctr/memory.usage_in_bytes': '7\n',
    'memory/ctr/memory.limit_in_bytes': V1_UNLIMITED,
    'memory/ctr/memory.stat': `hierarchical_memory_limit ${V1_UNLIMITED}`,
  });
  const m = new CgroupReader({ version: 1, paths: { memory: join(root, 'memory/ctr') } }).memory();
  assert.equal(m?.limit, null);
  assert.equal(m?.swapLimit, 0);
  assert.equal(m?.swapUsage, 0);
  const unlimitedSwap = fakeTree({ 'm/memory.usage_in_bytes': '7\n', 'm/memory.limit_in_bytes': '100\n', 'm/memory.memsw.limit_in_bytes': V1_UNLIMITED });
  assert.equal(new CgroupReader({ version: 1, paths: { memory: join(unlimitedSwap, 'm') } }).memory()?.swapLimit, null);
});

test('v2 cpu: cpu.max quota (tightest up the tree), "max", cpuset.cpus.effective, cpu.stat usage', () => {
  const root = fakeTree({
    'pod/cpu.max': '150000 100000\n',
    'pod/ctr/cpu.max': 'max 100000\n',
    'pod/ctr/cpuset.cpus.effective': '0-1,3\n',
    'pod/ctr/cpu.stat': 'usage_usec 3000\nuser_usec 2000\nsystem_usec 1000\n',
    'free/cpu.max': 'max 100000\n',
  });
  assert.deepEqual(new CgroupReader({ version: 2, path: join(root, 'pod/ctr') }).cpu(), { quota: 1.5, cpuset: [0, 1, 3], userNs: 2_000_000, systemNs: 1_000_000, perCpuNs: null });
  assert.deepEqual(new CgroupReader({ version: 2, path: join(root, 'free') }).cpu(), { quota: null, cpuset: null, userNs: 0, systemNs: 0, perCpuNs: null }, 'no quota, no cpuset file: unknown');
});

test('v1 cpu: cfs quota/period (-1 is none), effective cpuset, per-CPU usage or cpuacct.stat ticks', () => {
  const root = fakeTree({
    'cpu/pod/cpu.cfs_quota_us': '-1\n',
    'cpu/pod/cpu.cfs_period_us': '100000\n',
    'cpu/pod/ctr/cpu.cfs_quota_us': '50000\n',
    'cpu/pod/ctr/cpu.cfs_period_us': '100000\n',
    'cpuset/ctr/cpuset.effective_cpus': '2-3\n',
    'cpuset/ctr/cpuset.cpus': '0-3\n',
    'cpuacct/ctr/cpuacct.usage_percpu_user': '100 200\n',
    'cpuacct/ctr/cpuacct.usage_percpu_sys': '10 20\n',
    'cpuacct/old/cpuacct.stat': 'user 5\nsystem 2\n',
    'cpuset/old/cpuset.cpus': '1\n',
  });
  const r = new CgroupReader({ version: 1, paths: { cpu: join(root, 'cpu/pod/ctr'), cpuset: join(root, 'cpuset/ctr'), cpuacct: join(root, 'cpuacct/ctr') } });
  assert.deepEqual(r.cpu(), { quota: 0.5, cpuset: [2, 3], userNs: 300, systemNs: 30, perCpuNs: [110, 220] });
  const old = new CgroupReader({ version: 1, paths: { cpu: join(root, 'cpu/pod'), cpuset: join(root, 'cpuset/old'), cpuacct: join(root, 'cpuacct/old') } });
  assert.deepEqual(old.cpu(), { quota: null, cpuset: [1], userNs: 50_000_000, systemNs: 20_000_000, perCpuNs: null }, 'cpuset.cpus without effective_cpus; USER_HZ ticks');
});

test('pids: pids.current on v1 and v2; unknown without the controller or the file', () => {
  const root = fakeTree({ 'v2/pids.current': '4\n', 'pids/ctr/pids.current': '9\n', 'v2none/.keep': '' });
  assert.equal(new CgroupReader({ version: 2, path: join(root, 'v2') }).pidsCurrent(), 4);
  assert.equal(new CgroupReader({ version: 1, paths: { pids: join(root, 'pids/ctr') } }).pidsCurrent(), 9);
  assert.equal(new CgroupReader({ version: 1, paths: {} }).pidsCurrent(), undefined);
  assert.equal(new CgroupReader({ version: 2, path: join(root, 'v2none') }).pidsCurrent(), undefined);
});

test('tids: every thread of the subtree (v2 cgroup.threads, v1 tasks of the pids controller)', () => {
  const root = fakeTree({ 'pod/cgroup.threads': '1\n', 'pod/a/cgroup.threads': '2\n3\n', 'pod/a/b/cgroup.threads': '4\n', 'pids/pod/tasks': '7\n', 'pids/pod/c/tasks': '8\n' });
  assert.deepEqual(new CgroupReader({ version: 2, path: join(root, 'pod') }).tids().sort(), [1, 2, 3, 4]);
  assert.deepEqual(new CgroupReader({ version: 1, paths: { pids: join(root, 'pids/pod') } }).tids().sort(), [7, 8]);
});

test('io: v2 io.stat and v1 blkio recursive counters per device', () => {
  const root = fakeTree({
    'v2/io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n',
    'blkio/ctr/blkio.throttle.io_service_bytes_recursive': '8:0 Read 100\n8:0 Write 200\n8:0 Discard 0\nTotal 300\n',
    'blkio/ctr/blkio.throttle.io_serviced_recursive': '8:0 Read 1\n8:0 Write 2\n',
  });
  assert.deepEqual([...new CgroupReader({ version: 2, path: join(root, 'v2') }).io()], [['8:0', { rbytes: 4096, wbytes: 8192, rios: 1, wios: 2, dbytes: 0, dios: 0 }]]);
  assert.deepEqual([...new CgroupReader({ version: 1, paths: { blkio: join(root, 'blkio/ctr') } }).io()], [['8:0', { rbytes: 100, wbytes: 200, rios: 1, wios: 2, dbytes: 0, dios: 0 }]]);
});

test('pressure: the cgroup PSI file on v2, none on v1', () => {
  const root = fakeTree({ 'v2/memory.pressure': 'some avg10=1.00 avg60=0.00 avg300=0.00 total=5\n' });
  assert.match(new CgroupReader({ version: 2, path: join(root, 'v2') }).pressure('memory') ?? '', /^some avg10=1\.00/);
  assert.equal(new CgroupReader({ version: 1, paths: { memory: join(root, 'v2') } }).pressure('memory'), undefined);
});

test('readLimit: "max", -1 and v1 "unlimited" are null, a missing or unparsable file undefined', () => {
  const root = fakeTree({ max: 'max\n', neg: '-1\n', huge: V1_UNLIMITED, n: '42\n', bad: 'abc\n' });
  assert.equal(readLimit(join(root, 'max')), null);
  assert.equal(readLimit(join(root, 'neg')), null);
  assert.equal(readLimit(join(root, 'huge')), null);
  assert.equal(readLimit(join(root, 'n')), 42);
  assert.equal(readLimit(join(root, 'bad')), undefined);
  assert.equal(readLimit(join(root, 'missing')), undefined);
});
