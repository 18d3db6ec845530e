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
