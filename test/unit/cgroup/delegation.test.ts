import assert from 'node:assert/strict';
import { test } from 'node:test';
import { delegationPlan, mountsCgroupfsWritable, parseDelegateFiles, parseHierarchies, V2_DEFAULT_DELEGATED_FILES } from '../../../src/cgroup/index.js';
import { MOUNTINFO_HYBRID, MOUNTINFO_V1, MOUNTINFO_V2 } from '../../fixtures/cgroup/tree.js';

// Kernel 6.1's /sys/kernel/cgroup/delegate (6.18 adds nothing the manager needs).
const DELEGATE_6_1 = 'cgroup.procs\ncgroup.threads\ncgroup.subtree_control\nmemory.oom.group\nmemory.reclaim\n';

test('parseHierarchies: every v1 hierarchy with its controllers (named ones too) and the cgroup2 mount', () => {
  const h = parseHierarchies(MOUNTINFO_HYBRID);
  assert.deepEqual(h.map((x) => [x.version, x.controllers.join(','), x.mountPoint]), [
    [1, 'cpu', '/sys/fs/cgroup/cpu'],
    [1, 'cpuacct', '/sys/fs/cgroup/cpuacct'],
    [1, 'cpuset', '/sys/fs/cgroup/cpuset'],
    [1, 'memory', '/sys/fs/cgroup/memory'],
    [1, 'devices', '/sys/fs/cgroup/devices'],
    [1, 'freezer', '/sys/fs/cgroup/freezer'],
    [1, 'blkio', '/sys/fs/cgroup/blkio'],
    [1, 'pids', '/sys/fs/cgroup/pids'],
    [1, 'name=systemd', '/sys/fs/cgroup/systemd'],
    [2, '', '/sys/fs/cgroup/unified'],
  ]);
  assert.deepEqual(parseHierarchies(MOUNTINFO_V1).find((x) => x.controllers.includes('cpu'))?.controllers, ['cpu', 'cpuacct']);
  assert.deepEqual(parseHierarchies(MOUNTINFO_V2), [{ version: 2, controllers: [], mountPoint: '/sys/fs/cgroup', root: '/' }]);
  // a bind of a sub-cgroup comes after the whole hierarchy's mount
  const bound = parseHierarchies(`90 26 0:25 /kubepods /mnt/kp rw - cgroup2 cgroup2 rw\n${MOUNTINFO_V2}`);
  assert.deepEqual(bound.map((x) => x.root), ['/', '/kubepods']);
});

test('v2 host: the container cgroup and the kernel\'s delegatable files, from /sys/kernel/cgroup/delegate', () => {
  const plan = delegationPlan({
    procCgroup: '0::/kubepods/burstable/pod1/abc\n',
    hierarchies: parseHierarchies(MOUNTINFO_V2),
    v2Files: parseDelegateFiles(DELEGATE_6_1),
  });
  const dir = '/sys/fs/cgroup/kubepods/burstable/pod1/abc';
  assert.deepEqual(plan, [{
    hierarchy: 'unified',
    dir,
    paths: [dir, `${dir}/cgroup.procs`, `${dir}/cgroup.threads`, `${dir}/cgroup.subtree_control`, `${dir}/memory.oom.group`, `${dir}/memory.reclaim`],
  }]);
  // never a limit file: memory.max, cpu.max, pids.max of the delegated cgroup stay host root's
  assert.ok(!plan[0]!.paths.some((p) => /\.(max|high|low|min|weight)$/.test(p)));
});

test('v2 under the systemd driver: the scope\'s directory', () => {
  const scope = '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-abc.scope';
  const [t] = delegationPlan({ procCgroup: `0::${scope}\n`, hierarchies: parseHierarchies(MOUNTINFO_V2), v2Files: [...V2_DEFAULT_DELEGATED_FILES] });
  assert.equal(t?.dir, `/sys/fs/cgroup${scope}`);
  assert.deepEqual(t?.paths.slice(1).map((p) => p.slice(t.dir.length + 1)), ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control']);
});

test('hybrid host: every v1 hierarchy (name=systemd too) and the unified one; cgroup.procs and tasks', () => {
  const text = `10:net_cls,net_prio:/kubepods/pod1/abc
9:name=systemd:/kubepods/pod1/abc
8:pids:/kubepods/pod1/abc
4:memory:/kubepods/pod1/abc
1:cpu:/kubepods/pod1/abc
0::/kubepods/pod1/abc
`;
  const plan = delegationPlan({ procCgroup: text, hierarchies: parseHierarchies(MOUNTINFO_HYBRID), v2Files: parseDelegateFiles(undefined) });
  assert.deepEqual(plan.map((t) => [t.hierarchy, t.dir]), [
    ['name=systemd', '/sys/fs/cgroup/systemd/kubepods/pod1/abc'],
    ['pids', '/sys/fs/cgroup/pids/kubepods/pod1/abc'],
    ['memory', '/sys/fs/cgroup/memory/kubepods/pod1/abc'],
    ['cpu', '/sys/fs/cgroup/cpu/kubepods/pod1/abc'],
    ['unified', '/sys/fs/cgroup/unified/kubepods/pod1/abc'],
  ], 'net_cls,net_prio is not delegated (it tags traffic for the host\'s qdiscs); unmounted hierarchies are skipped');
  const mem = plan.find((t) => t.hierarchy === 'memory')!;
  assert.deepEqual(mem.paths, [mem.dir, `${mem.dir}/cgroup.procs`, `${mem.dir}/tasks`]);
});

test('v1 host with joint cpu,cpuacct: one target for the joint hierarchy', () => {
  const plan = delegationPlan({ procCgroup: '7:cpu,cpuacct:/k/p/c\n6:memory:/k/p/c\n', hierarchies: parseHierarchies(MOUNTINFO_V1), v2Files: [] });
  assert.deepEqual(plan.map((t) => t.dir), ['/sys/fs/cgroup/cpu,cpuacct/k/p/c', '/sys/fs/cgroup/memory/k/p/c']);
});

test('a process in a hierarchy\'s root cgroup, or outside a mount\'s root, gets nothing there', () => {
  assert.deepEqual(delegationPlan({ procCgroup: '0::/\n', hierarchies: parseHierarchies(MOUNTINFO_V2), v2Files: [] }), []);
  const onlySub = parseHierarchies('90 1 0:25 /kubepods /mnt/kp rw - cgroup2 cgroup2 rw\n');
  assert.deepEqual(delegationPlan({ procCgroup: '0::/system.slice/x\n', hierarchies: onlySub, v2Files: [] }), []);
  assert.deepEqual(delegationPlan({ procCgroup: '0::/kubepods/a\n', hierarchies: onlySub, v2Files: ['cgroup.procs'] }).map((t) => t.paths), [['/mnt/kp/a', '/mnt/kp/a/cgroup.procs']]);
});

test('parseDelegateFiles: the kernel\'s list, or the three cgroup v2 files when there is none', () => {
  assert.deepEqual(parseDelegateFiles(DELEGATE_6_1), ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control', 'memory.oom.group', 'memory.reclaim']);
  assert.deepEqual(parseDelegateFiles(undefined), ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control']);
  assert.deepEqual(parseDelegateFiles('\n'), ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control']);
});

test('mountsCgroupfsWritable: containerd\'s privileged spec (cgroup mount without ro) only', () => {
  const cg = (options: string[], type = 'cgroup') => [{ destination: '/sys/fs/cgroup', type, source: 'cgroup', options }];
  assert.equal(mountsCgroupfsWritable(cg(['nosuid', 'noexec', 'nodev', 'relatime', 'ro'])), false, 'unprivileged: read-only');
  assert.equal(mountsCgroupfsWritable(cg(['nosuid', 'noexec', 'nodev', 'relatime', 'rw'])), true, 'privileged (WithWriteableCgroupfs)');
  assert.equal(mountsCgroupfsWritable(cg(['rw'], 'cgroup2')), true);
  assert.equal(mountsCgroupfsWritable(cg(['rw'], 'bind')), false, 'a bind of something else at /sys/fs/cgroup is not the cgroup fs');
  assert.equal(mountsCgroupfsWritable([]), false);
  assert.equal(mountsCgroupfsWritable(undefined), false);
});
