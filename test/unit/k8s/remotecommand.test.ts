import assert from 'node:assert/strict';
import { test } from 'node:test';
import { exitCodeFromStatus } from '../../../src/k8s/cri/remotecommand.js';

test('exit codes from remote-command v4 status messages', () => {
  assert.equal(exitCodeFromStatus({ metadata: {}, status: 'Success' }), 0);
  assert.equal(exitCodeFromStatus({
    metadata: {}, status: 'Failure', reason: 'NonZeroExitCode', message: 'command terminated with non-zero exit code',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  }), 3);
  assert.equal(exitCodeFromStatus({ status: 'Failure', reason: 'InternalError', message: 'container not found' }), undefined);
  assert.equal(exitCodeFromStatus({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [] } }), undefined);
});
