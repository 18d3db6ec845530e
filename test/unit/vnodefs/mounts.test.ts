import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bindMountsFor } from '../../../src/vnodefs/index.js';

test('bind mounts cover the generated files, masked files and directories that exist', () => {
  const present = new Set(['/proc/meminfo', '/proc/cpuinfo', '/proc/stat', '/proc/pressure/cpu', '/sys/devices/system/cpu', '/proc/kcore', '/sys/firmware']);
  const m = bindMountsFor('/run/vnode/fs/vn1', { exists: (p) => present.has(p) });
  assert.deepEqual(
    m.map((x) => [x.source, x.destination]),
    [
      ['/run/vnode/fs/vn1/proc/meminfo', '/proc/meminfo'],
      ['/run/vnode/fs/vn1/proc/cpuinfo', '/proc/cpuinfo'],
      ['/run/vnode/fs/vn1/proc/stat', '/proc/stat'],
      ['/run/vnode/fs/vn1/proc/pressure/cpu', '/proc/pressure/cpu'],
      ['/run/vnode/fs/vn1/sys/devices/system/cpu', '/sys/devices/system/cpu'],
      ['/run/vnode/fs/vn1/masked/file', '/proc/kcore'],
      ['/run/vnode/fs/vn1/masked/dir', '/sys/firmware'],
    ],
  );
  for (const x of m) {
    assert.equal(x.type, 'bind');
    assert.ok(x.options.includes('ro') && x.options.includes('bind'));
  }
});

test('per-vNode sysctls are bound read-write, everything else read-only', () => {
  const m = bindMountsFor('/run/vnode/fs/vn1', { exists: (p) => p === '/proc/sys/vm/max_map_count' || p === '/proc/meminfo' });
  assert.deepEqual(
    m.map((x) => [x.destination, x.options.includes('ro')]),
    [
      ['/proc/meminfo', true],
      ['/proc/sys/vm/max_map_count', false],
    ],
  );
  assert.equal(m[1]!.source, '/run/vnode/fs/vn1/proc/sys/vm/max_map_count');
});
