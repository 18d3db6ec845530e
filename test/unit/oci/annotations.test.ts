// podIdentity: who a spec belongs to, and the named vNode a sandbox asks for.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podIdentity, VNODE_NAME_ANNOTATION } from '../../../src/oci/index.js';
import type { OciSpec } from '../../../src/oci/index.js';

const spec = (a: Record<string, string>) => ({ ociVersion: '1.1.0', annotations: a }) as unknown as OciSpec;

test('a sandbox carries its named vNode; a container does not (it follows its sandbox); a bad name is refused', () => {
  const sandbox = { 'io.kubernetes.cri.container-type': 'sandbox', 'io.kubernetes.cri.sandbox-id': 's1', 'io.kubernetes.cri.sandbox-namespace': 'team-a' };
  assert.equal(podIdentity(spec({ ...sandbox, [VNODE_NAME_ANNOTATION]: 'tenant-x' })).vnodeName, 'tenant-x');
  assert.equal(podIdentity(spec(sandbox)).vnodeName, undefined);
  assert.equal(podIdentity(spec({ 'io.kubernetes.cri.container-type': 'container', [VNODE_NAME_ANNOTATION]: 'tenant-x' })).vnodeName, undefined);
  for (const bad of ['', 'Tenant', 'a_b', '-a', 'a-', 'x'.repeat(64)]) {
    assert.throws(() => podIdentity(spec({ ...sandbox, [VNODE_NAME_ANNOTATION]: bad })), (e: Error & { code?: string }) => e.code === 'VNODE_INVALID_SPEC' && /not a valid vNode name: use a DNS label/.test(e.message), JSON.stringify(bad));
  }
  assert.equal(podIdentity(spec({ ...sandbox, [VNODE_NAME_ANNOTATION]: 'x'.repeat(63) })).vnodeName, 'x'.repeat(63));
});
