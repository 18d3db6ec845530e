import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode } from '../../../src/proto/index.js';
import { FEATURES_TYPE_URL, vnodeFeatures, type OciFeatures } from '../../../src/shim/features.js';
import { runtimeInfo } from '../../../src/shim/info.js';

// A runtime's features (abridged) without "rro" and without the idmap mount extension
// (bookworm's runc 1.1.5 has "rro" but no idmap).
const RUNC_115: OciFeatures = {
  ociVersionMin: '1.0.0',
  ociVersionMax: '1.0.2-dev',
  hooks: ['prestart', 'createContainer'],
  mountOptions: ['bind', 'nosuid', 'ro', 'rbind', 'rw'],
  linux: { namespaces: ['cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'], capabilities: ['CAP_CHOWN'], seccomp: { enabled: true } },
};

/** What containerd 2.1's CRI derives from the features (introspectRuntimeHandler, supportsCRIUserns). */
function criHandlerFeatures(f: OciFeatures) {
  return {
    recursiveReadOnlyMounts: (f.mountOptions ?? []).includes('rro'),
    userNamespaces: (f.linux?.namespaces ?? []).includes('user') && f.linux?.mountExtensions?.idmap?.enabled === true,
  };
}

test('vnode declares rro, user namespaces and ID-mapped mounts on top of an old runc, keeping what runc reports', () => {
  assert.deepEqual(criHandlerFeatures(RUNC_115), { recursiveReadOnlyMounts: false, userNamespaces: false });
  const f = vnodeFeatures(RUNC_115);
  assert.deepEqual(criHandlerFeatures(f), { recursiveReadOnlyMounts: true, userNamespaces: true });
  assert.deepEqual(f.hooks, RUNC_115.hooks);
  assert.deepEqual(f.linux!['capabilities'], ['CAP_CHOWN']);
  assert.deepEqual(f.linux!['seccomp'], { enabled: true });
  assert.ok(f.mountOptions!.includes('nosuid'));
  assert.deepEqual(RUNC_115.mountOptions, ['bind', 'nosuid', 'ro', 'rbind', 'rw'], 'the input is not changed');
  // without a runtime that has `features`, the same two features
  assert.deepEqual(criHandlerFeatures(vnodeFeatures(undefined)), { recursiveReadOnlyMounts: true, userNamespaces: true });
});

test('-info carries the features as the JSON Any containerd registers for runtime-spec Features', () => {
  const info = decode<{ features?: { typeUrl: string; value: Uint8Array } }>('containerd.types.RuntimeInfo', runtimeInfo(new Uint8Array(), '1', () => RUNC_115));
  assert.equal(info.features!.typeUrl, FEATURES_TYPE_URL);
  assert.equal(FEATURES_TYPE_URL, 'types.containerd.io/opencontainers/runtime-spec/1/features/Features');
  const f = JSON.parse(Buffer.from(info.features!.value).toString('utf8')) as OciFeatures;
  assert.deepEqual(criHandlerFeatures(f), { recursiveReadOnlyMounts: true, userNamespaces: true });
});
