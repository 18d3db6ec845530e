import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Code, ERROR_STATUS, taskErrorOf, vnodeCodeOf } from '../../../src/taskapi/index.js';
import { UsageError } from '../../../src/shim/args.js';
import { RpcError } from '../../../src/ttrpc/index.js';
import { OversizedMessageError } from '../../../src/ttrpc/frame.js';
import { InvalidSpecError } from '../../../src/oci/spec.js';
import { LocalImageError } from '../../../src/oci/image-local.js';
import { HelperMissingError } from '../../../src/manager/helpers.js';
import { IdPoolConfigError, IdPoolExhaustedError } from '../../../src/manager/id-pool.js';
import { classifyFailure, RuntimeError, RuntimeNotFoundError } from '../../../src/manager/oci-runtime.js';
import { RootfsError } from '../../../src/manager/rootfs.js';
import { StdioError } from '../../../src/manager/stdio.js';
import { VnodeError } from '../../../src/manager/vnode.js';
import { IllegalTransitionError } from '../../../src/manager/transitions.js';
import * as answers from '../../../src/manager/task/errors.js';
import { NetError } from '../../../src/net/index.js';

const every: [Error, Code][] = [
  [new InvalidSpecError('x'), Code.InvalidArgument],
  [new LocalImageError('x'), Code.FailedPrecondition],
  [new LocalImageError('x', 'VNODE_IMAGE_IMPORT_FAILED'), Code.FailedPrecondition],
  [new HelperMissingError('x'), Code.Internal],
  [new IdPoolExhaustedError('x'), Code.ResourceExhausted],
  [new IdPoolConfigError('x'), Code.Internal],
  [new RuntimeError('x', 1), Code.Unknown],
  [new RuntimeError('x', 1, 'not-found'), Code.Unknown],
  [new RuntimeError('x', 1, 'not-running'), Code.Unknown],
  [new RuntimeError('x', 1, 'already-finished'), Code.Unknown],
  [new RuntimeNotFoundError('x', null), Code.FailedPrecondition],
  [new RootfsError('x'), Code.FailedPrecondition],
  [new StdioError('x'), Code.FailedPrecondition],
  [new VnodeError('x'), Code.FailedPrecondition],
  [new IllegalTransitionError('task c1', 'pause', 'stopped'), Code.FailedPrecondition],
  [new answers.TaskNotFoundError('x'), Code.NotFound],
  [new answers.TaskExistsError('x'), Code.AlreadyExists],
  [new answers.BadRequestError('x'), Code.InvalidArgument],
  [new answers.UnsupportedError('x'), Code.Unimplemented],
  [new answers.PreconditionError('x'), Code.FailedPrecondition],
  [new answers.ProcessFinishedError('x'), Code.NotFound],
  [new answers.NoCgroupError('x'), Code.NotFound],
  [new answers.WaitCanceledError('x'), Code.Canceled],
  [new UsageError('x'), Code.InvalidArgument],
  [new OversizedMessageError(5), Code.ResourceExhausted],
  [new NetError('VNODE_NET_NO_VNODE_CNI', 'x'), Code.FailedPrecondition],
  [new NetError('VNODE_NET_HOST_NETWORK_REFUSED', 'x'), Code.FailedPrecondition],
  [new NetError('VNODE_NET_CNI_CONFIG', 'x'), Code.FailedPrecondition],
  [new NetError('VNODE_NET_CNI_PLUGIN', 'x'), Code.FailedPrecondition],
  [new NetError('VNODE_NET_NOT_NETNS', 'x'), Code.FailedPrecondition],
  [new NetError('VNODE_NET_NO_LINKS', 'x'), Code.FailedPrecondition],
  [new NetError('VNODE_NET_CAPTURE', 'x'), Code.Internal],
  [new NetError('VNODE_NET_MOVE', 'x'), Code.Internal],
  [new NetError('VNODE_NET_MOUNT', 'x'), Code.Internal],
  [new NetError('VNODE_NET_RECORD', 'x'), Code.Internal],
];

test('every error class has a stable code with a row in the table', () => {
  const codes = new Set<string>();
  for (const [e, status] of every) {
    const code = vnodeCodeOf(e);
    assert.ok(code && /^VNODE_[A-Z_]+$/.test(code), `${e.name} has code ${String((e as { code?: unknown }).code)}`);
    assert.equal(ERROR_STATUS[code]!.status, status, e.name);
    codes.add(code);
  }
  // each of the task answers is listed above
  assert.equal(Object.values(answers).length, every.filter(([e]) => Object.values(answers).some((c) => e instanceof c)).length);
  // and no row is unused
  assert.deepEqual([...codes].sort(), Object.keys(ERROR_STATUS).sort());
});

test('component failures go out in the context of the call, answers as they are', () => {
  const f = taskErrorOf(new StdioError('cannot open stdout FIFO /x'), 'create c1') as RpcError;
  assert.ok(f instanceof RpcError);
  assert.equal(f.code, Code.FailedPrecondition);
  assert.equal(f.message, 'create c1: cannot open stdout FIFO /x');
  const a = taskErrorOf(new IllegalTransitionError('task c1', 'pause', 'stopped'), 'pause c1') as RpcError;
  assert.equal(a.code, Code.FailedPrecondition);
  assert.equal(a.message, 'cannot pause task c1 in state stopped');
  const nf = taskErrorOf(new answers.TaskNotFoundError('task nope not found in namespace "k8s.io"'), 'state nope') as RpcError;
  assert.deepEqual([nf.code, nf.message], [Code.NotFound, 'task nope not found in namespace "k8s.io"']);
});

test('RpcErrors and uncoded errors pass through for the ttrpc layer to classify', () => {
  const r = new RpcError(Code.Aborted, 'x');
  assert.equal(taskErrorOf(r, 'kill c1'), r);
  const t = new TypeError('boom');
  assert.equal(taskErrorOf(t, 'kill c1'), t);
  const sys = Object.assign(new Error('ENOENT'), { code: 'ENOENT' });
  assert.equal(taskErrorOf(sys, 'kill c1'), sys);
});

test('runtime failures are classified by what runc and crun log', () => {
  assert.equal(classifyFailure('container does not exist'), 'not-found');
  assert.equal(classifyFailure('container not found'), 'not-found');
  assert.equal(classifyFailure('container not running'), 'not-running');
  assert.equal(classifyFailure('process already finished'), 'already-finished');
  assert.equal(classifyFailure('os: process already finished'), 'already-finished');
  assert.equal(classifyFailure('unable to freeze'), 'failed');
  assert.equal(new RuntimeError('x', 1, 'not-running').code, 'VNODE_RUNTIME_NOT_RUNNING');
  assert.equal(new RuntimeError('x', 1).kind, 'failed');
});
