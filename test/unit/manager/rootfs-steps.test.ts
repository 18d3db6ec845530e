import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mountTable } from '../../../src/sys/mount.js';
import { hostMountOptions, taskDirs } from '../../../src/manager/task/rootfs-steps.js';

test('the mount options of a path are its own mount’s, else the nearest mount above it', () => {
  const of = hostMountOptions();
  const table = mountTable();
  // below /proc (a mount of its own), nothing else is mounted at these paths
  for (const p of ['/proc', '/proc/self/status', '/proc/no-such-file/below']) assert.deepEqual(of(p), table.get('/proc'), p);
  // a symlink is followed to where it points: /proc/self is /proc/<pid>
  assert.deepEqual(of('/proc/self'), table.get('/proc'));
  // "/" always has a mount
  assert.ok(of('/no-such-dir/x'));
});

test('a task’s directories live below the instance’s mounts, by namespace and id', () => {
  assert.deepEqual(taskDirs('/run/vnode/i1/mounts', 'k8s.io', 'c1'), {
    scratch: '/run/vnode/i1/mounts/k8s.io/c1',
    rootfs: '/run/vnode/i1/mounts/k8s.io/c1/rootfs',
    runtimeBundle: '/run/vnode/i1/mounts/k8s.io/c1/bundle',
    files: '/run/vnode/i1/mounts/k8s.io/c1/files',
  });
  assert.equal(taskDirs('/m', 'a/b', 'c1').scratch, '/m/a%2Fb/c1');
});

test('a spec’s own user namespace asks for the range of its container root; a pod without one asks for none', async () => {
  const { askedIdRangeOf } = await import('../../../src/manager/task/rootfs-steps.js');
  const maps = { uidMappings: [{ containerID: 0, hostID: 13107200, size: 65536 }], gidMappings: [{ containerID: 0, hostID: 13107200, size: 65536 }] };
  // the sandbox makes the namespace, its containers join it by path; both carry the mappings
  assert.deepEqual(askedIdRangeOf({ linux: { namespaces: [{ type: 'user' }], ...maps } } as never), { uid: 13107200, gid: 13107200, size: 65536 });
  assert.deepEqual(askedIdRangeOf({ linux: { namespaces: [{ type: 'user', path: '/proc/9/ns/user' }], ...maps } } as never), { uid: 13107200, gid: 13107200, size: 65536 });
  assert.equal(askedIdRangeOf({ linux: { namespaces: [{ type: 'pid' }], ...maps } } as never), undefined);
  assert.equal(askedIdRangeOf({ linux: { namespaces: [{ type: 'user' }] } } as never), undefined);
  assert.equal(askedIdRangeOf({} as never), undefined);
});

test('an image is taken as chowned to the asked range only when a layer’s root is owned by it and the snapshotter did not ask for ID-mapping', async () => {
  const { chownedImageOf } = await import('../../../src/manager/rootfs.js');
  const { mkdtempSync, mkdirSync, chownSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const dir = mkdtempSync(join(tmpdir(), 'vnode-chowned-'));
  try {
    const chowned = join(dir, 'remapped');
    const plain = join(dir, 'layer');
    mkdirSync(chowned);
    mkdirSync(plain);
    chownSync(chowned, 13107200, 13107200);
    const asked = { uid: 13107200, gid: 13107200, size: 65536 };
    const overlay = (lowers: string[], extra: string[] = []) => [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lowers.join(':')}`, ...extra] }];
    assert.deepEqual(chownedImageOf(overlay([chowned, plain]), asked), asked);
    assert.equal(chownedImageOf(overlay([plain]), asked), undefined);
    assert.equal(chownedImageOf(overlay([chowned], ['uidmap=0:13107200:65536']), asked), undefined, '2.x: the shim is asked to ID-map instead');
    assert.equal(chownedImageOf(overlay([chowned]), undefined), undefined);
    assert.deepEqual(chownedImageOf([{ type: 'bind', source: chowned, options: ['rbind'] }], asked), asked);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
