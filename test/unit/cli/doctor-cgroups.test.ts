import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCgroupLayout } from '../../../src/cgroup/index.js';
import { cgroupLayout } from '../../../src/cli/doctor.js';
import { controllersOf, driverCheck, hasNsdelegate, probeScript, probeVerdict, runtimeDrivers } from '../../../src/cli/doctor-cgroups.js';
import { MOUNTINFO_HYBRID, MOUNTINFO_V1, MOUNTINFO_V2 } from '../../fixtures/cgroup/tree.js';

test("doctor reports the host's cgroup layout from src/cgroup's detection", () => {
  assert.deepEqual(cgroupLayout(parseCgroupLayout(MOUNTINFO_HYBRID)), {
    layout: 'hybrid',
    detail: 'hybrid: v1 controllers (cpu, memory, pids) + unified hierarchy at /sys/fs/cgroup/unified',
    missing: [],
  });
  assert.deepEqual(cgroupLayout(parseCgroupLayout(MOUNTINFO_V2)), { layout: 'v2', detail: 'unified (cgroup v2) at /sys/fs/cgroup', missing: [] });
  assert.deepEqual(cgroupLayout(parseCgroupLayout(MOUNTINFO_V1)), { layout: 'v1', detail: 'cgroup v1 (cpu, memory, pids)', missing: [] });
  const noMemory = MOUNTINFO_V1.split('\n').filter((l) => !l.includes('/memory ')).join('\n');
  assert.deepEqual(cgroupLayout(parseCgroupLayout(noMemory)).missing, ['memory']);
  assert.deepEqual(cgroupLayout(parseCgroupLayout('')), { layout: 'v1', detail: 'cgroup v1 ()', missing: ['cpu', 'memory', 'pids'] }, 'no cgroups at all fails the check');
});

test('controllersOf: v2 from the root\'s cgroup.controllers, v1 every mounted hierarchy', () => {
  assert.deepEqual(controllersOf(parseCgroupLayout(MOUNTINFO_V2), 'cpuset cpu io memory hugetlb pids rdma misc\n'), ['cpuset', 'cpu', 'io', 'memory', 'hugetlb', 'pids', 'rdma', 'misc']);
  assert.deepEqual(controllersOf(parseCgroupLayout(MOUNTINFO_HYBRID), undefined, MOUNTINFO_HYBRID), ['blkio', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer', 'memory', 'name=systemd', 'pids']);
});

test('hasNsdelegate: the unified mount\'s super options', () => {
  assert.equal(hasNsdelegate(MOUNTINFO_V2, '/sys/fs/cgroup'), true);
  assert.equal(hasNsdelegate(MOUNTINFO_V2.replace('rw,nsdelegate,memory_recursiveprot', 'rw'), '/sys/fs/cgroup'), false);
  assert.equal(hasNsdelegate(MOUNTINFO_HYBRID, '/sys/fs/cgroup/unified'), false);
});

const V3_CONFIG = `version = 3
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc]
runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.runc.options]
SystemdCgroup = true
[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.vnode]
runtime_type = "io.containerd.vnode.v2"
`;
const V2_CONFIG = `version = 2
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
runtime_type = "io.containerd.runc.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
SystemdCgroup = false
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata-vnode]
runtime_type = "io.containerd.vnode.v2"
[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata-vnode.options]
SystemdCgroup = false
`;

test('runtimeDrivers: SystemdCgroup per CRI runtime in config version 3 (2.x) and 2 (1.x); vnode by runtime_type', () => {
  assert.deepEqual(runtimeDrivers(V3_CONFIG), [{ runtime: 'runc', systemdCgroup: true, vnode: false }, { runtime: 'vnode', systemdCgroup: undefined, vnode: true }]);
  assert.deepEqual(runtimeDrivers(V2_CONFIG), [{ runtime: 'runc', systemdCgroup: false, vnode: false }, { runtime: 'kata-vnode', systemdCgroup: false, vnode: true }]);
  assert.deepEqual(runtimeDrivers('version = 2\n'), []);
});

test('driverCheck: disagreeing runtimes, the systemd driver without systemd or busctl, cgroupfs on a systemd v2 host', () => {
  const systemdV2 = { systemd: true, busctl: true, mode: 'v2' as const };
  const mixed = driverCheck('/etc/containerd/config.toml', runtimeDrivers(V3_CONFIG), systemdV2);
  assert.equal(mixed.status, 'WARN');
  assert.equal(mixed.detail, '/etc/containerd/config.toml: runc: systemd, vnode: cgroupfs (default); the runtimes disagree');
  assert.match(mixed.fix!, /runc's: SystemdCgroup = true under the vnode runtime's options/);
  const both = runtimeDrivers(V3_CONFIG.replace('runtime_type = "io.containerd.vnode.v2"', 'runtime_type = "io.containerd.vnode.v2"\n[plugins."io.containerd.cri.v1.runtime".containerd.runtimes.vnode.options]\nSystemdCgroup = true'));
  assert.equal(driverCheck('c', both, systemdV2).status, 'OK');
  const noSystemd = driverCheck('c', both, { ...systemdV2, systemd: false });
  assert.equal(noSystemd.status, 'FAIL');
  assert.match(noSystemd.fix!, /set SystemdCgroup = false in runc, vnode's options/);
  const noBusctl = driverCheck('c', both, { ...systemdV2, busctl: false });
  assert.equal(noBusctl.status, 'FAIL');
  assert.match(noBusctl.fix!, /busctl/);
  const cgroupfs = driverCheck('c', runtimeDrivers(V2_CONFIG), systemdV2);
  assert.equal(cgroupfs.status, 'WARN');
  assert.match(cgroupfs.fix!, /SystemdCgroup = true .* cgroupDriver: systemd/);
  assert.equal(driverCheck('c', runtimeDrivers(V2_CONFIG), { systemd: false, busctl: false, mode: 'hybrid' }).status, 'OK', 'cgroupfs everywhere on a host without systemd');
});

test('probeScript and probeVerdict: a delegated child limited and the own limit refused is OK; a writable own limit FAILs', () => {
  assert.match(probeScript('/sys/fs/cgroup/p', true), /echo \+memory > \/sys\/fs\/cgroup\/p\/cgroup.subtree_control/);
  assert.match(probeScript('/sys/fs/cgroup/memory/p', false), /memory.limit_in_bytes/);
  const good = 'mkdir=ok\nchild=8388608\nown=Permission denied\n';
  assert.equal(probeVerdict(good, '', false, false).status, 'OK');
  assert.equal(probeVerdict(good, '', true, true).status, 'OK');
  const noNsd = probeVerdict(good, '', true, false);
  assert.equal(noNsd.status, 'WARN');
  assert.match(noNsd.fix!, /remount,nsdelegate/);
  const open = probeVerdict('mkdir=ok\nchild=8388608\nown=\n', '', false, false);
  assert.equal(open.status, 'FAIL');
  assert.match(open.fix!, /do not run privileged vNode pods here/);
  const noChild = probeVerdict('subtree=failed\nown=Permission denied\n', "mkdir: can't create directory '/sys/fs/cgroup/p/child': Permission denied\n", true, true);
  assert.equal(noChild.status, 'FAIL');
  assert.match(noChild.detail, /enabling \+memory in cgroup.subtree_control failed; mkdir: can't create directory/);
  assert.match(noChild.fix!, /echo \+memory > \/sys\/fs\/cgroup\/cgroup.subtree_control/);
});
