// Stable error codes and the one table that maps them to the CLI's exit codes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CliError, CliErrorCode, exitCodeFor, isVnodeError, NotFoundError, UsageError } from '../../../src/cli/errors.js';
import { ManifestError } from '../../../src/cli/manifest.js';
import { CriError, StreamError } from '../../../src/k8s/cri/index.js';
import { LocalImageError } from '../../../src/oci/image-local.js';
import { SyscallError } from '../../../src/sys/libc.js';

test('CLI errors carry stable codes, and their exit codes come from the table (kubectl/crictl: 1 failed, 2 usage)', () => {
  const cases: [CliError, string, number][] = [
    [new CliError('x'), 'VNODE_FAILED', 1],
    [new UsageError('x'), 'VNODE_USAGE', 2],
    [new ManifestError('spec.containers[0].image', 'Required value'), 'VNODE_MANIFEST_INVALID', 2],
    [new NotFoundError('x'), 'VNODE_NOT_FOUND', 1],
    [new CliError('image "a" is not present', CliErrorCode.imageNotFound), 'VNODE_IMAGE_NOT_FOUND', 1],
  ];
  for (const [err, code, exit] of cases) {
    assert.equal(err.code, code, err.name);
    assert.equal(err.exitCode, exit, err.name);
    assert.equal(exitCodeFor(err.code), exit);
  }
  assert.ok(new ManifestError('f', 'd') instanceof UsageError);
});

test("other components' codes are general failures (exit 1), and count as vnode's own errors", () => {
  const cri = new CriError('RunPodSandbox', 5, 'sandbox not found');
  assert.equal(cri.code, 'VNODE_CRI_NOT_FOUND');
  assert.equal(cri.grpcCode, 5);
  assert.equal(cri.message, 'CRI RunPodSandbox: sandbox not found (NOT_FOUND)');
  const errs = [cri, new StreamError('refused', 'VNODE_STREAM_REFUSED', 404), new LocalImageError('no busybox')];
  for (const e of errs) {
    assert.ok(isVnodeError(e), e.name);
    assert.equal(exitCodeFor(e.code), 1);
  }
  assert.equal(new LocalImageError('no busybox').code, 'VNODE_IMAGE_PREREQUISITE_MISSING');
  assert.equal(new SyscallError('mount', 1).code, 'EPERM', "a syscall's code is its errno name");
  assert.equal(isVnodeError(new SyscallError('mount', 1)), false, 'shown with its stack, as before');
  assert.equal(isVnodeError(new TypeError('x')), false);
  assert.equal(exitCodeFor(undefined), 1);
});
