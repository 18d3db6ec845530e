import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, codeName, RpcError, toStatus } from '../../../src/ttrpc/status.js';

test('gRPC code values', () => {
  assert.deepEqual(
    [Code.OK, Code.InvalidArgument, Code.NotFound, Code.AlreadyExists, Code.FailedPrecondition, Code.Unimplemented, Code.Internal, Code.Unavailable],
    [0, 3, 5, 6, 9, 12, 13, 14],
  );
  assert.equal(codeName(5), 'NotFound');
});

test('RpcError keeps its code and message', () => {
  assert.deepEqual(toStatus(new RpcError(Code.AlreadyExists, 'task x already exists')), { code: 6, message: 'task x already exists', details: [] });
});

test('system errors map by errno', () => {
  const e = Object.assign(new Error("ENOENT: no such file or directory, open '/x'"), { code: 'ENOENT' });
  assert.equal(toStatus(e).code, Code.NotFound);
  assert.equal(toStatus(Object.assign(new Error('exists'), { code: 'EEXIST' })).code, Code.AlreadyExists);
  assert.equal(toStatus(Object.assign(new Error('perm'), { code: 'EPERM' })).code, Code.PermissionDenied);
  assert.equal(toStatus(Object.assign(new Error('inval'), { code: 'EINVAL' })).code, Code.InvalidArgument);
});

test('programming errors are Internal, other errors Unknown, timeouts DeadlineExceeded', () => {
  assert.equal(toStatus(new TypeError('x is undefined')).code, Code.Internal);
  assert.equal(toStatus(new Error('something')).code, Code.Unknown);
  assert.equal(toStatus('a string').code, Code.Unknown);
  assert.equal(toStatus(new DOMException('t', 'TimeoutError')).code, Code.DeadlineExceeded);
  assert.equal(toStatus(new DOMException('a', 'AbortError')).code, Code.Canceled);
});
