import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cgroupOf, locationFromProcCgroup, narrowLocation, parseCgroupLayout, parseProcCgroup, type CgroupLocation } from '../../../src/cgroup/index.js';
import { fakeTree, MOUNTINFO_HYBRID, MOUNTINFO_V1, MOUNTINFO_V2 } from '../../fixtures/cgroup/tree.js';

const HYBRID = parseCgroupLayout(MOUNTINFO_HYBRID);
const V2 = parseCgroupLayout(MOUNTINFO_V2);
const V1 = parseCgroupLayout(MOUNTINFO_V1);

// What a container on this CI machine has (hybrid: v1 lines and the unified "0::" line).
const HYBRID_TEXT = `12:name=systemd:/kubepods/pod1/abc
9:pids:/kubepods/pod1/abc
8:blkio:/kubepods/pod1/abc
5:devices:/kubepods/pod1/abc
4:memory:/kubepods/pod1/abc
3:cpuset:/kubepods/pod1/abc
2:cpuacct:/kubepods/pod1/abc
1:cpu:/kubepods/pod1/abc
0::/kubepods/pod1/abc
`;
const V2_TEXT = '0::/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope\n';
const V1_TEXT = '7:cpu,cpuacct:/kubepods/pod1/abc\n6:memory:/kubepods/pod1/abc\n1:name=systemd:/kubepods/pod1/abc\n';

test('parseProcCgroup: v1 lines (joint and named hierarchies), the v2 line, and paths with colons', () => {
  assert.deepEqual(parseProcCgroup(V1_TEXT), [
    { hierarchy: 7, controllers: ['cpu', 'cpuacct'], path: '/kubepods/pod1/abc' },
    { hierarchy: 6, controllers: ['memory'], path: '/kubepods/pod1/abc' },
    { hierarchy: 1, controllers: ['systemd'], path: '/kubepods/pod1/abc' },
  ]);
  assert.deepEqual(parseProcCgroup(V2_TEXT), [{ hierarchy: 0, controllers: [], path: '/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope' }]);
  assert.deepEqual(parseProcCgroup('0::/a:b\n'), [{ hierarchy: 0, controllers: [], path: '/a:b' }]);
  assert.deepEqual(parseProcCgroup('\nnot a line\n'), []);
  const hybrid = parseProcCgroup(HYBRID_TEXT);
  assert.equal(hybrid.length, 9);
  assert.deepEqual(hybrid.at(-1), { hierarchy: 0, controllers: [], path: '/kubepods/pod1/abc' });
});

test('hybrid host: the v1 controllers locate the cgroup; the unified line is not used', () => {
  assert.deepEqual(locationFromProcCgroup(HYBRID_TEXT, HYBRID), {
    version: 1,
    paths: {
      pids: '/sys/fs/cgroup/pids/kubepods/pod1/abc',
      blkio: '/sys/fs/cgroup/blkio/kubepods/pod1/abc',
      memory: '/sys/fs/cgroup/memory/kubepods/pod1/abc',
      cpuset: '/sys/fs/cgroup/cpuset/kubepods/pod1/abc',
      cpuacct: '/sys/fs/cgroup/cpuacct/kubepods/pod1/abc',
      cpu: '/sys/fs/cgroup/cpu/kubepods/pod1/abc',
    },
  });
});

test('v2 host: the unified directory under the cgroup2 mount', () => {
  assert.deepEqual(locationFromProcCgroup(V2_TEXT, V2), { version: 2, path: '/sys/fs/cgroup/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope' });
  assert.equal(locationFromProcCgroup(V1_TEXT, V2), undefined, 'no unified line: no v2 location');
});

test('v1 host: joint controllers map to their shared mount; unmounted controllers are absent', () => {
  assert.deepEqual(locationFromProcCgroup(V1_TEXT, V1), {
    version: 1,
    paths: { cpu: '/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/abc', cpuacct: '/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1/abc', memory: '/sys/fs/cgroup/memory/kubepods/pod1/abc' },
  });
  assert.equal(locationFromProcCgroup(V2_TEXT, V1), undefined);
});

test('cgroupOf reads /proc/<pid>/cgroup; a gone process has none', () => {
  const proc = fakeTree({ '42/cgroup': V2_TEXT });
  assert.deepEqual(cgroupOf(42, V2, proc), { version: 2, path: '/sys/fs/cgroup/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope' });
  assert.equal(cgroupOf(43, V2, proc), undefined);
});

test('narrowLocation: a reader below the base is measured by its own cgroup, others by the base', () => {
  const base: CgroupLocation = { version: 2, path: '/sys/fs/cgroup/kubepods.slice/kubepods-pod1.slice' };
  assert.deepEqual(narrowLocation(base, V2_TEXT, V2), { version: 2, path: '/sys/fs/cgroup/kubepods.slice/kubepods-pod1.slice/cri-containerd-abc.scope' });
  assert.equal(narrowLocation(base, '0::/kubepods.slice/kubepods-pod1.slice\n', V2), base, 'the same cgroup: the base itself');
  assert.equal(narrowLocation(base, '0::/kubepods.slice/kubepods-pod10.slice/x\n', V2), base, 'a sibling with a common prefix is not below');
  assert.equal(narrowLocation(base, '0::/\n', V2), base, 'above: the base');

  const v1base: CgroupLocation = { version: 1, paths: { memory: '/sys/fs/cgroup/memory/kubepods/pod1', cpu: '/sys/fs/cgroup/cpu/kubepods/pod1' } };
  const narrowed = narrowLocation(v1base, HYBRID_TEXT, HYBRID);
  assert.deepEqual(narrowed, { version: 1, paths: { memory: '/sys/fs/cgroup/memory/kubepods/pod1/abc', cpu: '/sys/fs/cgroup/cpu/kubepods/pod1/abc' } });
  assert.equal(narrowLocation(v1base, '4:memory:/other\n', HYBRID), v1base);
});
