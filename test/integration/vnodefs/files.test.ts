// vnodefs mounted for real, read by "containers" (new mount + PID namespaces in the
// vNode's cgroups, v1 or v2) through the bind mounts the runtime core will apply.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { VnodeFs } from '../../../src/vnodefs/index.js';
import { cleanupMount, makeCgroup, runContainer, skipReason, type TestCgroup } from '../../fixtures/vnodefs/harness.js';

const skip = skipReason();
const MiB = 1024 * 1024;
const tag = `${process.pid}`;
const mountpoint = `/tmp/vnodefs-it-files-${tag}`;
let fs: VnodeFs | undefined;
let big: TestCgroup; // 256 MiB, 1.5 CPUs
let small: TestCgroup; // 128 MiB, 0.5 CPU
const hostMemTotalKb = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);

before(async () => {
  if (skip) return;
  big = makeCgroup(`files-big-${tag}`, { memoryBytes: 256 * MiB, cpuQuotaUs: 150_000 });
  small = makeCgroup(`files-small-${tag}`, { memoryBytes: 128 * MiB, cpuQuotaUs: 50_000 });
  fs = await VnodeFs.mount({
    mountpoint,
    vnodes: {
      big: { cgroup: big.loc, startedAt: Date.now() - 3_600_000 },
      small: { cgroup: small.loc, startedAt: Date.now() },
    },
  });
});

after(async () => {
  if (skip) return;
  await fs?.close().catch(() => undefined);
  await cleanupMount(mountpoint);
  big?.remove();
  small?.remove();
});

test('256 MiB / 1.5 CPU vNode: free, /proc/meminfo, cpuinfo, sys cpu online, top show 256 MiB and 2 CPUs', { skip }, async () => {
  const r = await runContainer(
    big,
    fs!.bindMounts('big'),
    'free -b; echo ---; cat /proc/meminfo; echo ---; grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online; ls /sys/devices/system/cpu | grep -c "^cpu[0-9]"; echo ---; top -bn1 | head -5',
  );
  assert.equal(r.code, 0, r.stderr);
  const [free, meminfo, cpus, top] = r.stdout.split('---\n');
  const memLine = free!.split('\n').find((l) => l.startsWith('Mem:'))!.split(/\s+/);
  assert.equal(Number(memLine[1]), 256 * MiB);
  assert.match(meminfo!, /^MemTotal:\s+262144 kB$/m);
  assert.ok(!meminfo!.includes(String(hostMemTotalKb)), 'host MemTotal visible');
  assert.deepEqual(cpus!.trim().split('\n'), ['2', '0-1', '2']);
  assert.match(top!, /MiB Mem :\s+256\.0 total/);
});

test('0.5 CPU / 128 MiB vNode in the same mount sees 1 CPU and 128 MiB', { skip }, async () => {
  const r = await runContainer(small, fs!.bindMounts('small'), 'grep -c ^processor /proc/cpuinfo; cat /sys/devices/system/cpu/online; ls -d /sys/devices/system/cpu/cpu1 2>&1; head -1 /proc/meminfo; head -1 /proc/stat');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines[0], '1');
  assert.equal(lines[1], '0');
  assert.match(lines[2]!, /No such file or directory/);
  assert.equal(lines[3], 'MemTotal:         131072 kB');
  assert.match(lines[4]!, /^cpu /);
});

test('uptime and /proc/stat btime follow the vNode start; loadavg counts the vNode tasks', { skip }, async () => {
  const r = await runContainer(big, fs!.bindMounts('big'), 'cat /proc/uptime; grep ^btime /proc/stat; uptime; cat /proc/loadavg');
  assert.equal(r.code, 0, r.stderr);
  const [up, btime, upCmd, load] = r.stdout.trim().split('\n');
  const secs = Number(up!.split(' ')[0]);
  assert.ok(secs >= 3600 && secs < 3600 + 120, `uptime ${secs}`);
  const hostUp = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
  assert.ok(Math.abs(secs - hostUp) > 1 || Math.abs(hostUp - 3600) < 120, 'shows the host uptime');
  assert.ok(Math.abs(Number(btime!.split(' ')[1]) - (Date.now() / 1000 - 3600)) < 120);
  assert.match(upCmd!, /up\s+1:0\d/);
  // the container's sh, cat (and unshare) are the vNode's tasks; host has many more
  const [, , , running, tasks, lastPid] = load!.split(/[ /]/);
  assert.ok(Number(running) >= 1 && Number(running) <= Number(tasks));
  assert.ok(Number(tasks) >= 2 && Number(tasks) < 10, `tasks ${tasks}`);
  assert.ok(Number(lastPid) > 0);
});

test('a container cgroup below the vNode with a tighter limit sees its own limit', { skip }, async () => {
  const ctr = big.child(`ctr`, 64 * MiB);
  try {
    const r = await runContainer(ctr, fs!.bindMounts('big'), 'head -1 /proc/meminfo');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'MemTotal:          65536 kB\n');
  } finally {
    ctr.remove();
  }
});

test('masked host files read empty, masked directories are empty, DMI ids are absent', { skip }, async () => {
  const binds = fs!.bindMounts('big');
  const files = binds.filter((b) => b.source.endsWith('/masked/file')).map((b) => b.destination);
  const dirs = binds.filter((b) => b.source.endsWith('/masked/dir')).map((b) => b.destination);
  assert.ok(files.includes('/proc/zoneinfo') && dirs.includes('/sys/firmware'), 'this host has /proc/zoneinfo and /sys/firmware');
  assert.notEqual(readFileSync('/proc/zoneinfo', 'utf8').length, 0);
  const script = [
    ...files.map((f) => `printf '%s ' ${f}; wc -c < ${f}`),
    ...dirs.map((d) => `printf '%s ' ${d}; ls -A ${d} | wc -l`),
    'test -e /sys/devices/virtual/dmi/id && echo dmi-present; test -e /sys/class/dmi/id && echo dmi-present; true',
  ].join('; ');
  const r = await runContainer(big, binds, script);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.deepEqual(lines, [...files, ...dirs].map((p) => `${p} 0`));
});

test('writes are refused with the exact errno: EACCES on open for write, EROFS through the ro bind', { skip }, async () => {
  // Through the read-only bind mount the VFS refuses first.
  const r = await runContainer(big, fs!.bindMounts('big'), 'echo 1 > /proc/meminfo');
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /Read-only file system/);
  // On the vnodefs mount itself vnodefs answers EACCES.
  const r2 = await runContainer(big, [], `echo 1 > ${fs!.pathOf('big')}/proc/meminfo`);
  assert.match(r2.stderr, /Permission denied/);
  const r3 = await runContainer(big, [], `mkdir ${fs!.pathOf('big')}/proc/x`);
  assert.match(r3.stderr, /Permission denied/);
});

test('sysctls the kernel does not namespace are per vNode: written value reads back, host and other vNodes keep theirs', { skip }, async () => {
  const hostValue = readFileSync('/proc/sys/vm/max_map_count', 'utf8');
  const wanted = String(Number(hostValue) + 1234);
  const r = await runContainer(big, fs!.bindMounts('big'), `echo ${wanted} > /proc/sys/vm/max_map_count && cat /proc/sys/vm/max_map_count; /bin/echo bogus > /proc/sys/vm/max_map_count; echo "rc=$?"`);
  assert.equal(r.stdout, `${wanted}\nrc=1\n`);
  assert.match(r.stderr, /Invalid argument/);
  assert.equal(readFileSync('/proc/sys/vm/max_map_count', 'utf8'), hostValue);
  const other = await runContainer(small, fs!.bindMounts('small'), 'cat /proc/sys/vm/max_map_count');
  assert.equal(other.stdout, hostValue);
  const again = await runContainer(big, fs!.bindMounts('big'), 'cat /proc/sys/vm/max_map_count');
  assert.equal(again.stdout, `${wanted}\n`);
});
