import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { CGROUPS_V1_METRICS, CGROUPS_V2_METRICS, packAny, unpackAny, type CgroupV1, type CgroupV2 } from '../../../src/proto/index.js';
import { cgroupPids, metricsOf, oomKills, type CgroupLocation } from '../../../src/cgroup/index.js';
import { fakeTree } from '../../fixtures/cgroup/tree.js';

const V1_FILES = {
  'memory/ctr/memory.stat': 'cache 4096\nrss 8192\nrss_huge 0\nmapped_file 1024\ndirty 12\nwriteback 0\npgpgin 100\npgpgout 50\npgfault 300\npgmajfault 2\ninactive_anon 10\nactive_anon 20\ninactive_file 30\nactive_file 40\nunevictable 0\nhierarchical_memory_limit 100663296\nhierarchical_memsw_limit 9223372036854771712\ntotal_cache 5000\ntotal_rss 9000\ntotal_pgfault 301\n',
  'memory/ctr/memory.usage_in_bytes': '12288\n',
  'memory/ctr/memory.limit_in_bytes': '100663296\n',
  'memory/ctr/memory.max_usage_in_bytes': '20000\n',
  'memory/ctr/memory.failcnt': '3\n',
  'memory/ctr/memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 2\n',
  'memory/ctr/memory.kmem.usage_in_bytes': '777\n',
  'memory/ctr/cgroup.procs': '',
  'cpuacct/ctr/cpuacct.usage': '5000000000\n',
  'cpuacct/ctr/cpuacct.stat': 'user 300\nsystem 100\n',
  'cpuacct/ctr/cpuacct.usage_percpu': '3000000000 2000000000 \n',
  'cpu/ctr/cpu.stat': 'nr_periods 10\nnr_throttled 4\nthrottled_time 123456\n',
  'pids/ctr/pids.current': '3\n',
  'pids/ctr/pids.max': 'max\n',
  'pids/ctr/cgroup.procs': '101\n102\n103\n',
};

const V2_FILES = {
  'ctr/cpu.stat': 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\nnr_periods 7\nnr_throttled 1\nthrottled_usec 99\n',
  'ctr/memory.stat': 'anon 8192\nfile 4096\nkernel_stack 16384\nslab 2048\nsock 0\nshmem 512\nfile_mapped 1024\nfile_dirty 8\ninactive_file 3000\nactive_file 1096\npgfault 77\npgmajfault 1\nworkingset_refault_anon 5\n',
  'ctr/memory.peak': '20000\n',
  'ctr/io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n259:0 rbytes=1 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n',
  'ctr/memory.current': '13000\n',
  'ctr/memory.max': 'max\n',
  'ctr/memory.swap.current': '0\n',
  'ctr/memory.swap.max': '1048576\n',
  'ctr/memory.events': 'low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n',
  'ctr/pids.current': '2\n',
  'ctr/pids.max': '64\n',
  'ctr/cgroup.procs': '201\n202\n',
};

function v1At(root: string): CgroupLocation {
  return { version: 1, paths: { memory: join(root, 'memory/ctr'), cpu: join(root, 'cpu/ctr'), cpuacct: join(root, 'cpuacct/ctr'), pids: join(root, 'pids/ctr') } };
}

test('v1 metrics: io.containerd.cgroups.v1.Metrics from the memory, cpu, cpuacct and pids controllers', () => {
  const m = metricsOf(v1At(fakeTree(V1_FILES)));
  assert.equal(m.type, CGROUPS_V1_METRICS);
  const v = m.value as CgroupV1.Metrics;
  assert.deepEqual(v.pids, { current: 3n, limit: 0n }, '"max" pids reads as 0 (no limit)');
  assert.deepEqual(v.cpu, {
    usage: { total: 5_000_000_000n, user: 3_000_000_000n, kernel: 1_000_000_000n, perCpu: [3_000_000_000n, 2_000_000_000n] },
    throttling: { periods: 10n, throttledPeriods: 4n, throttledTime: 123456n },
  });
  assert.equal(v.memory?.cache, 4096n);
  assert.equal(v.memory?.rss, 8192n);
  assert.equal(v.memory?.mappedFile, 1024n);
  assert.equal(v.memory?.pgFault, 300n);
  assert.equal(v.memory?.totalCache, 5000n);
  assert.equal(v.memory?.totalRss, 9000n);
  assert.equal(v.memory?.totalPgFault, 301n);
  assert.equal(v.memory?.totalDirty, 0n, 'a key memory.stat lacks is 0');
  assert.equal(v.memory?.hierarchicalMemoryLimit, 100663296n);
  assert.equal(v.memory?.hierarchicalSwapLimit, 9223372036854771712n, 'v1 "unlimited" is passed on as the kernel says it');
  assert.deepEqual(v.memory?.usage, { usage: 12288n, limit: 100663296n, max: 20000n, failcnt: 3n });
  assert.deepEqual(v.memory?.swap, { usage: 0n, limit: 0n, max: 0n, failcnt: 0n }, 'no memsw files (swap accounting off): zeros');
  assert.deepEqual(v.memory?.kernel, { usage: 777n, limit: 0n, max: 0n, failcnt: 0n });
  assert.deepEqual(v.memoryOomControl, { oomKillDisable: 0n, underOom: 0n, oomKill: 2n });
});

test('v2 metrics: io.containerd.cgroups.v2.Metrics from the unified directory', () => {
  const m = metricsOf({ version: 2, path: join(fakeTree(V2_FILES), 'ctr') });
  assert.equal(m.type, CGROUPS_V2_METRICS);
  const v = m.value as CgroupV2.Metrics;
  assert.deepEqual(v.pids, { current: 2n, limit: 64n });
  assert.deepEqual(v.cpu, { usageUsec: 2500n, userUsec: 2000n, systemUsec: 500n, nrPeriods: 7n, nrThrottled: 1n, throttledUsec: 99n });
  const mem = v.memory!;
  assert.deepEqual(
    { anon: mem.anon, file: mem.file, kernelStack: mem.kernelStack, slab: mem.slab, sock: mem.sock, shmem: mem.shmem, fileMapped: mem.fileMapped, fileDirty: mem.fileDirty },
    { anon: 8192n, file: 4096n, kernelStack: 16384n, slab: 2048n, sock: 0n, shmem: 512n, fileMapped: 1024n, fileDirty: 8n },
  );
  assert.equal(mem.inactiveFile, 3000n, 'the CRI working set is usage - inactive_file');
  assert.equal(mem.activeFile, 1096n);
  assert.equal(mem.pgfault, 77n);
  assert.equal(mem.pgmajfault, 1n);
  assert.equal(mem.workingsetRefault, 0n, 'a key this kernel splits (workingset_refault_anon/_file) is 0');
  assert.equal(mem.usage, 13000n);
  assert.equal(mem.usageLimit, 0n, 'memory.max "max" reads as 0 (no limit)');
  assert.equal(mem.swapUsage, 0n);
  assert.equal(mem.swapLimit, 1048576n);
  assert.equal(mem.maxUsage, 20000n, 'memory.peak');
  assert.equal(mem.swapMaxUsage, 0n, 'no memory.swap.peak');
  assert.deepEqual(v.memoryEvents, { low: 0n, high: 0n, max: 5n, oom: 1n, oomKill: 1n });
  assert.deepEqual(v.io?.usage, [
    { major: 8n, minor: 0n, rbytes: 4096n, wbytes: 8192n, rios: 1n, wios: 2n },
    { major: 259n, minor: 0n, rbytes: 1n, wbytes: 0n, rios: 1n, wios: 0n },
  ]);
});

test('metrics of a cgroup whose files are gone are zeros, not an error', () => {
  const empty = fakeTree({ 'ctr/.keep': '' });
  const v2 = metricsOf({ version: 2, path: join(empty, 'ctr') }).value as CgroupV2.Metrics;
  assert.deepEqual(v2.pids, { current: 0n, limit: 0n });
  assert.equal(v2.memory?.usage, 0n);
  assert.equal(v2.cpu?.usageUsec, 0n);
  assert.deepEqual(v2.io, { usage: [] });
  assert.equal(v2.memoryEvents?.oomKill, 0n);
  const v1 = metricsOf({ version: 1, paths: {} }).value as CgroupV1.Metrics;
  assert.deepEqual(v1.cpu?.usage, { total: 0n, user: 0n, kernel: 0n, perCpu: [] });
  assert.deepEqual(v1.memoryOomControl, { oomKillDisable: 0n, underOom: 0n, oomKill: 0n });
});

test('cgroupPids: cgroup.procs of the unified directory, or of the v1 pids controller (else memory)', () => {
  assert.deepEqual(cgroupPids(v1At(fakeTree(V1_FILES))), [101, 102, 103]);
  const root = fakeTree(V1_FILES);
  assert.deepEqual(cgroupPids({ version: 1, paths: { memory: join(root, 'memory/ctr'), cpu: join(root, 'cpu/ctr') } }), [], 'memory controller when pids is not mounted');
  assert.deepEqual(cgroupPids({ version: 2, path: join(fakeTree(V2_FILES), 'ctr') }), [201, 202]);
  assert.deepEqual(cgroupPids({ version: 2, path: '/nonexistent/vnode-test' }), []);
});

test('oomKills: v1 memory.oom_control, v2 memory.events; 0 when unreadable', () => {
  assert.equal(oomKills(v1At(fakeTree(V1_FILES))), 2);
  assert.equal(oomKills({ version: 2, path: join(fakeTree(V2_FILES), 'ctr') }), 1);
  assert.equal(oomKills({ version: 2, path: '/nonexistent/vnode-test' }), 0);
  assert.equal(oomKills({ version: 1, paths: {} }), 0);
});

test('both metrics encode as the message their type URL names, field for field', () => {
  for (const loc of [v1At(fakeTree(V1_FILES)), { version: 2 as const, path: join(fakeTree(V2_FILES), 'ctr') }]) {
    const m = metricsOf(loc);
    const back = unpackAny<Record<string, unknown>>(packAny(m.type, m.value));
    const sample = loc.version === 2 ? (back.memory as CgroupV2.MemoryStat).inactiveFile : (back.memory as CgroupV1.MemoryStat).totalRss;
    assert.equal(BigInt(sample as bigint), loc.version === 2 ? 3000n : 9000n, 'a value survives the wire');
    if (loc.version === 2) {
      assert.equal(BigInt((back.memoryEvents as CgroupV2.MemoryEvents).oomKill as bigint), 1n);
      assert.equal((back.io as CgroupV2.IOStat).usage?.length, 2);
    } else {
      assert.equal(BigInt((back.memoryOomControl as CgroupV1.MemoryOomControl).oomKill as bigint), 2n);
    }
  }
});
