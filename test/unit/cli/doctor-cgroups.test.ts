import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCgroupLayout } from '../../../src/cgroup/index.js';
import { cgroupLayout } from '../../../src/cli/doctor.js';
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
