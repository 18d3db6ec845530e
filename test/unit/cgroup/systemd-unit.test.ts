import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cpuMask, resourceProperties, setPropertiesArgs, sharesToWeight, startScopeArgs, stopUnitArgs, systemdScopeOf } from '../../../src/cgroup/index.js';

const MANAGER = ['org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager'];
const MiB = 1024 * 1024;

test('systemdScopeOf: the unit, its slice and directory of containerd\'s systemd-form path; nothing for the cgroupfs form', () => {
  assert.deepEqual(systemdScopeOf('kubepods-burstable-pod1.slice:cri-containerd:abc'), {
    slice: 'kubepods-burstable-pod1.slice',
    unit: 'cri-containerd-abc.scope',
    dir: '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-abc.scope',
  });
  assert.deepEqual(systemdScopeOf(':vnode:abc'), { slice: 'system.slice', unit: 'vnode-abc.scope', dir: '/system.slice/vnode-abc.scope' });
  assert.equal(systemdScopeOf('/kubepods/pod1/abc'), undefined);
  assert.equal(systemdScopeOf(undefined), undefined);
  assert.throws(() => systemdScopeOf('x:y'), /neither an absolute path/);
});

test('sharesToWeight: runc\'s mapping of cpu.shares to cpu.weight', () => {
  assert.equal(sharesToWeight(2), 1);
  assert.equal(sharesToWeight(1024), 39);
  assert.equal(sharesToWeight(262144), 10000);
  assert.equal(sharesToWeight(0), 0);
});

test('cpuMask: systemd\'s byte-array bitmask, CPU n at bit n%8 of byte n/8', () => {
  assert.deepEqual(cpuMask('0-3'), [0x0f]);
  assert.deepEqual(cpuMask('1,9'), [0x02, 0x02]);
  assert.deepEqual(cpuMask(''), []);
});

test('resourceProperties: a 256 MiB, 500m, 100-pids pod container on v2, and the legacy names on v1', () => {
  const r = { memory: { limit: 256 * MiB, swap: 256 * MiB }, cpu: { shares: 512, quota: 50_000, period: 100_000, cpus: '0-1' }, pids: { limit: 100 } };
  assert.deepEqual(resourceProperties(r, true), [
    ['MemoryMax', 't', String(256 * MiB)],
    ['MemorySwapMax', 't', '0'],
    ['CPUWeight', 't', '20'],
    ['CPUQuotaPerSecUSec', 't', '500000'],
    ['CPUQuotaPeriodUSec', 't', '100000'],
    ['AllowedCPUs', 'ay', '1', '3'],
    ['TasksMax', 't', '100'],
  ]);
  assert.deepEqual(resourceProperties(r, false), [
    ['MemoryLimit', 't', String(256 * MiB)],
    ['CPUShares', 't', '512'],
    ['CPUQuotaPerSecUSec', 't', '500000'],
    ['TasksMax', 't', '100'],
  ]);
  // quota rounded up to systemd's 10 ms steps; unlimited swap and pids
  assert.deepEqual(resourceProperties({ cpu: { quota: 12_345, period: 100_000 }, memory: { limit: MiB, swap: -1 }, pids: { limit: -1 } }, true), [
    ['MemoryMax', 't', String(MiB)],
    ['MemorySwapMax', 't', '18446744073709551615'],
    ['CPUQuotaPerSecUSec', 't', '130000'],
    ['CPUQuotaPeriodUSec', 't', '100000'],
    ['TasksMax', 't', '18446744073709551615'],
  ]);
  assert.deepEqual(resourceProperties(undefined, true), []);
  assert.deepEqual(resourceProperties({ memory: { limit: 0 }, cpu: { shares: 0, quota: -1 } }, true), [], 'unset values set nothing');
});

test('startScopeArgs: StartTransientUnit with Slice, Delegate, the host PID and the limits', () => {
  const args = startScopeArgs({ unit: 'cri-containerd-abc.scope', slice: 'kubepods-pod1.slice', hostPid: 4242, resources: { memory: { limit: 64 * MiB } }, unified: true, description: 'd' });
  assert.deepEqual(args, [
    'call', '--quiet', ...MANAGER, 'StartTransientUnit', 'ssa(sv)a(sa(sv))', 'cri-containerd-abc.scope', 'replace',
    '10',
    'Description', 's', 'd',
    'Slice', 's', 'kubepods-pod1.slice',
    'DefaultDependencies', 'b', 'false',
    'Delegate', 'b', 'true',
    'PIDs', 'au', '1', '4242',
    'MemoryAccounting', 'b', 'true',
    'CPUAccounting', 'b', 'true',
    'IOAccounting', 'b', 'true',
    'TasksAccounting', 'b', 'true',
    'MemoryMax', 't', String(64 * MiB),
    '0',
  ]);
  assert.ok(startScopeArgs({ unit: 'u.scope', slice: 's.slice', hostPid: 1, unified: false }).includes('BlockIOAccounting'));
});

test('setPropertiesArgs and stopUnitArgs', () => {
  assert.deepEqual(setPropertiesArgs('u.scope', { memory: { limit: 128 * MiB } }, true), ['call', '--quiet', ...MANAGER, 'SetUnitProperties', 'sba(sv)', 'u.scope', 'true', '1', 'MemoryMax', 't', String(128 * MiB)]);
  assert.equal(setPropertiesArgs('u.scope', {}, true), undefined, 'nothing to set, no call');
  assert.deepEqual(stopUnitArgs('u.scope'), ['call', '--quiet', ...MANAGER, 'StopUnit', 'ss', 'u.scope', 'replace']);
});
