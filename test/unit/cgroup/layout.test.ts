import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCgroupLayout, standardLayout } from '../../../src/cgroup/index.js';
import { MOUNTINFO_HYBRID, MOUNTINFO_V1, MOUNTINFO_V2 } from '../../fixtures/cgroup/tree.js';

test('hybrid: v1 controllers and a cgroup2 hierarchy without them', () => {
  assert.deepEqual(parseCgroupLayout(MOUNTINFO_HYBRID), {
    mode: 'hybrid',
    v1: {
      cpu: '/sys/fs/cgroup/cpu',
      cpuacct: '/sys/fs/cgroup/cpuacct',
      cpuset: '/sys/fs/cgroup/cpuset',
      memory: '/sys/fs/cgroup/memory',
      blkio: '/sys/fs/cgroup/blkio',
      pids: '/sys/fs/cgroup/pids',
    },
    unified: '/sys/fs/cgroup/unified',
  });
});

test('v2: /sys/fs/cgroup is cgroup2 and no v1 controller is mounted', () => {
  assert.deepEqual(parseCgroupLayout(MOUNTINFO_V2), { mode: 'v2', v1: {}, unified: '/sys/fs/cgroup' });
});

test('v2 with a name=systemd v1 hierarchy (no controllers) is still v2', () => {
  const text = `${MOUNTINFO_V2}40 26 0:40 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n`;
  assert.equal(parseCgroupLayout(text).mode, 'v2');
});

test('v1: joint cpu,cpuacct mount gives both controllers one mount point; name=systemd is no controller', () => {
  const l = parseCgroupLayout(MOUNTINFO_V1);
  assert.equal(l.mode, 'v1');
  assert.equal(l.unified, undefined);
  assert.equal(l.v1.cpu, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(l.v1.cpuacct, '/sys/fs/cgroup/cpu,cpuacct');
  assert.equal(l.v1.memory, '/sys/fs/cgroup/memory');
  assert.deepEqual(Object.keys(l.v1).sort(), ['blkio', 'cpu', 'cpuacct', 'cpuset', 'memory', 'pids']);
});

test('none: no cgroup mounted, or no mountinfo at all', () => {
  assert.deepEqual(parseCgroupLayout('28 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n'), { mode: 'none', v1: {} });
  assert.deepEqual(parseCgroupLayout(''), { mode: 'none', v1: {} });
});

test('the host hierarchy wins over other cgroup2 mounts; a sub-cgroup bind is used only when nothing else is', () => {
  const other = '50 28 0:25 / /run/other\\040cg rw - cgroup2 cgroup2 rw\n';
  assert.equal(parseCgroupLayout(other + MOUNTINFO_V2).unified, '/sys/fs/cgroup');
  assert.equal(parseCgroupLayout(other).unified, '/run/other cg', 'mountinfo escapes are undone');
  const subOnly = '60 28 0:32 /kubepods/pod1 /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n';
  const sub = parseCgroupLayout(subOnly);
  assert.equal(sub.mode, 'v1');
  assert.equal(sub.v1.memory, '/sys/fs/cgroup/memory');
  const both = `60 28 0:32 /kubepods/pod1 /mnt/memsub rw - cgroup cgroup rw,memory\n${MOUNTINFO_HYBRID}`;
  assert.equal(parseCgroupLayout(both).v1.memory, '/sys/fs/cgroup/memory', "the hierarchy's root mount is preferred");
});

test('lines without the " - " separator or too short are skipped', () => {
  assert.equal(parseCgroupLayout('garbage\n1 2 3\n - cgroup2\n').mode, 'none');
});

test('standardLayout: /sys/fs/cgroup for v2, /sys/fs/cgroup/<controller> for v1', () => {
  assert.deepEqual(standardLayout(true), { mode: 'v2', v1: {}, unified: '/sys/fs/cgroup' });
  const v1 = standardLayout(false);
  assert.equal(v1.mode, 'v1');
  assert.equal(v1.v1.memory, '/sys/fs/cgroup/memory');
  assert.equal(v1.v1.blkio, '/sys/fs/cgroup/blkio');
});
