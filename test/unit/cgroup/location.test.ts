import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  asCgroupLocation,
  CgroupPathError,
  cgroupsPathDir,
  controllerDir,
  expandSlice,
  locationAt,
  locationOfCgroupsPath,
  parseCgroupLayout,
  parseCgroupsPath,
  podCgroupOf,
  systemdUnitName,
  taskCgroupOf,
  type CgroupLocation,
} from '../../../src/cgroup/index.js';
import { MOUNTINFO_HYBRID, MOUNTINFO_V1, MOUNTINFO_V2 } from '../../fixtures/cgroup/tree.js';

const V2 = parseCgroupLayout(MOUNTINFO_V2);
const HYBRID = parseCgroupLayout(MOUNTINFO_HYBRID);

test('parseCgroupsPath: the cgroupfs form, the systemd form, and neither', () => {
  assert.deepEqual(parseCgroupsPath('/kubepods/burstable/pod1/abc'), { driver: 'cgroupfs', path: '/kubepods/burstable/pod1/abc' });
  assert.deepEqual(parseCgroupsPath('kubepods-burstable-pod1.slice:cri-containerd:abc'), { driver: 'systemd', slice: 'kubepods-burstable-pod1.slice', prefix: 'cri-containerd', name: 'abc' });
  assert.deepEqual(parseCgroupsPath(':vnode:abc'), { driver: 'systemd', slice: '', prefix: 'vnode', name: 'abc' });
  assert.equal(parseCgroupsPath(''), undefined);
  assert.equal(parseCgroupsPath(undefined), undefined);
  assert.throws(() => parseCgroupsPath('relative/path'), (e: unknown) => e instanceof CgroupPathError && e.code === 'CGROUP_BAD_PATH');
  assert.throws(() => parseCgroupsPath('a.slice:prefix:'), CgroupPathError);
});

test('systemd slices expand to their parents; units are scopes unless a slice is named', () => {
  assert.equal(expandSlice('kubepods-burstable-pod1.slice'), '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice');
  assert.equal(expandSlice('system.slice'), '/system.slice');
  assert.equal(expandSlice('-.slice'), '/');
  for (const bad of ['kubepods', 'a--b.slice', '-a.slice', 'a-.slice', 'a/b.slice', '.slice']) assert.throws(() => expandSlice(bad), CgroupPathError, bad);
  assert.equal(systemdUnitName({ prefix: 'cri-containerd', name: 'abc' }), 'cri-containerd-abc.scope');
  assert.equal(systemdUnitName({ prefix: '', name: 'abc' }), 'abc.scope');
  assert.equal(systemdUnitName({ prefix: 'x', name: 'kubepods-pod1.slice' }), 'kubepods-pod1.slice');
  const p = parseCgroupsPath('kubepods-burstable-pod1.slice:cri-containerd:abc')!;
  assert.equal(cgroupsPathDir(p), '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-abc.scope');
  assert.equal(cgroupsPathDir(parseCgroupsPath(':vnode:abc')!), '/system.slice/vnode-abc.scope', 'the default slice');
});

test('locationOfCgroupsPath: systemd-driver cgroups on v2 and hybrid hosts carry their unit', () => {
  const p = parseCgroupsPath('kubepods-pod1.slice:cri-containerd:abc')!;
  assert.deepEqual(locationOfCgroupsPath(p, V2), {
    version: 2,
    path: '/sys/fs/cgroup/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope',
    systemd: { slice: 'kubepods-pod1.slice', unit: 'cri-containerd-abc.scope' },
  });
  const h = locationOfCgroupsPath(p, HYBRID);
  assert.equal(h?.version, 1);
  assert.equal(controllerDir(h!, 'memory'), '/sys/fs/cgroup/memory/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope');
  assert.deepEqual(h?.systemd, { slice: 'kubepods-pod1.slice', unit: 'cri-containerd-abc.scope' });
  assert.deepEqual(locationOfCgroupsPath({ driver: 'cgroupfs', path: '/k/p' }, V2), { version: 2, path: '/sys/fs/cgroup/k/p' }, 'cgroupfs: no unit');
});

test('locationAt: under each mounted v1 controller, or the unified mount; nothing on a host without cgroups', () => {
  const v1 = locationAt('/k/p', parseCgroupLayout(MOUNTINFO_V1));
  assert.deepEqual(v1, {
    version: 1,
    paths: { memory: '/sys/fs/cgroup/memory/k/p', cpu: '/sys/fs/cgroup/cpu,cpuacct/k/p', cpuacct: '/sys/fs/cgroup/cpu,cpuacct/k/p', cpuset: '/sys/fs/cgroup/cpuset/k/p', pids: '/sys/fs/cgroup/pids/k/p', blkio: '/sys/fs/cgroup/blkio/k/p' },
  });
  assert.equal(locationAt('/k/p', parseCgroupLayout('')), undefined);
});

test('taskCgroupOf: the cgroupfs form in the standard layout; the systemd form as its unit\'s directory', () => {
  assert.deepEqual(taskCgroupOf('/kubepods/pod1/abc', true), { version: 2, path: '/sys/fs/cgroup/kubepods/pod1/abc' });
  assert.deepEqual(taskCgroupOf('/kubepods/pod1/abc', false), {
    version: 1,
    paths: {
      memory: '/sys/fs/cgroup/memory/kubepods/pod1/abc', cpu: '/sys/fs/cgroup/cpu/kubepods/pod1/abc', cpuacct: '/sys/fs/cgroup/cpuacct/kubepods/pod1/abc',
      cpuset: '/sys/fs/cgroup/cpuset/kubepods/pod1/abc', pids: '/sys/fs/cgroup/pids/kubepods/pod1/abc', blkio: '/sys/fs/cgroup/blkio/kubepods/pod1/abc',
    },
  });
  assert.deepEqual(taskCgroupOf('kubepods.slice:cri-containerd:abc', true), {
    version: 2,
    path: '/sys/fs/cgroup/kubepods.slice/cri-containerd-abc.scope',
    systemd: { slice: 'kubepods.slice', unit: 'cri-containerd-abc.scope' },
  });
  assert.equal(taskCgroupOf('not:a', true), undefined, 'a malformed path names no cgroup');
  assert.equal(taskCgroupOf(undefined, true), undefined);
});

test("podCgroupOf: the parent of the sandbox's cgroup in every controller", () => {
  assert.deepEqual(podCgroupOf({ version: 2, path: '/sys/fs/cgroup/kubepods/pod1/sandbox' }), { version: 2, path: '/sys/fs/cgroup/kubepods/pod1' });
  assert.deepEqual(podCgroupOf({ version: 1, paths: { memory: '/sys/fs/cgroup/memory/k/pod1/s', pids: '/sys/fs/cgroup/pids/k/pod1/s' } }), {
    version: 1,
    paths: { memory: '/sys/fs/cgroup/memory/k/pod1', pids: '/sys/fs/cgroup/pids/k/pod1' },
  });
  const unit: CgroupLocation = { version: 2, path: '/sys/fs/cgroup/a.slice/b.scope', systemd: { slice: 'a.slice', unit: 'b.scope' } };
  assert.deepEqual(podCgroupOf(unit), { version: 2, path: '/sys/fs/cgroup/a.slice' }, 'the unit is not the parent');
});

test("asCgroupLocation: today's records as they are, an older manager's { dirs, unified } converted", () => {
  const v2: CgroupLocation = { version: 2, path: '/sys/fs/cgroup/k/p' };
  assert.equal(asCgroupLocation(v2), v2);
  assert.deepEqual(asCgroupLocation({ dirs: { '': '/sys/fs/cgroup/k/p' }, unified: true }), v2);
  assert.deepEqual(asCgroupLocation({ dirs: { memory: '/sys/fs/cgroup/memory/k', systemd: '/sys/fs/cgroup/systemd/k', pids: '/sys/fs/cgroup/pids/k' }, unified: false }), {
    version: 1,
    paths: { memory: '/sys/fs/cgroup/memory/k', pids: '/sys/fs/cgroup/pids/k' },
  });
  assert.equal(asCgroupLocation({ dirs: {}, unified: true }), undefined);
  assert.equal(asCgroupLocation('junk'), undefined);
  assert.equal(asCgroupLocation(null), undefined);
});
