// serveTaskApi over a real unix socket with the typed client.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encode, TaskStatus, type StateRequest } from '../../../src/proto/index.js';
import { Code, serveTaskApi, TASK_RPCS, taskClient, TaskError, type TaskApi, type TaskContext } from '../../../src/taskapi/index.js';
import { RpcError, TtrpcClient, TtrpcServer } from '../../../src/ttrpc/index.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vnode-taskapi-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

function fakeApi(calls: [string, unknown, TaskContext][]): TaskApi {
  const rec = (name: string) => async (req: unknown, ctx: TaskContext) => {
    calls.push([name, req, ctx]);
    return undefined as never;
  };
  return {
    state: async (req: StateRequest, ctx) => {
      calls.push(['state', req, ctx]);
      if (req.id !== 'c1') throw new TaskError(Code.NotFound, `task ${req.id} not found`);
      return { id: 'c1', bundle: '/b', pid: 10, status: TaskStatus.Stopped, stdin: '', stdout: '', stderr: '', terminal: false, exitStatus: 3, exitedAt: new Date(5000), execId: '' };
    },
    create: async () => {
      throw new TaskError(Code.AlreadyExists, 'task c1 already exists');
    },
    start: async () => ({ pid: 11 }),
    delete: async () => ({ pid: 10, exitStatus: 3, exitedAt: new Date(6000) }),
    pids: async () => ({ processes: [{ pid: 10 }, { pid: 12, info: { typeUrl: 'containerd.runc.v1.ProcessDetails', value: new Uint8Array([0x0a, 0x01, 0x65]) } }] }),
    pause: async () => {
      throw new TaskError(Code.FailedPrecondition, 'cannot pause a stopped task');
    },
    resume: rec('resume'),
    checkpoint: async () => {
      throw new TaskError(Code.Unimplemented, 'checkpoint is not supported by vnode');
    },
    kill: rec('kill'),
    exec: rec('exec'),
    resizePty: rec('resizePty'),
    closeIO: rec('closeIO'),
    update: rec('update'),
    wait: async () => ({ exitStatus: 137, exitedAt: new Date(7000) }),
    stats: async () => ({}),
    connect: async () => ({ shimPid: 1, taskPid: 10, version: '2' }),
    shutdown: async () => {
      throw new TypeError('boom');
    },
  };
}

test('typed round trip of every RPC, errors with codes, namespace from metadata', async () => {
  const path = join(dir, 't.sock');
  const server = new TtrpcServer();
  const calls: [string, unknown, TaskContext][] = [];
  serveTaskApi(server, fakeApi(calls));
  await server.listen(path);
  const client = new TtrpcClient(path);
  const t = taskClient(client, 'k8s.io');
  try {
    assert.equal(TASK_RPCS.length, 17);
    const st = await t.state({ id: 'c1', execId: '' });
    assert.equal(st.status, TaskStatus.Stopped);
    assert.deepEqual(st.exitedAt, new Date(5000));
    assert.equal(calls[0]![2].namespace, 'k8s.io');
    await assert.rejects(t.state({ id: 'nope', execId: '' }), (e: RpcError) => e.code === Code.NotFound && e.message === 'task nope not found');
    await assert.rejects(
      t.create({ id: 'c1', bundle: '', rootfs: [], terminal: false, stdin: '', stdout: '', stderr: '', checkpoint: '', parentCheckpoint: '', oomPath: '' }),
      (e: RpcError) => e.code === Code.AlreadyExists,
    );
    assert.deepEqual(await t.start({ id: 'c1', execId: 'e1' }), { pid: 11 });
    assert.deepEqual(await t.delete({ id: 'c1', execId: '' }), { pid: 10, exitStatus: 3, exitedAt: new Date(6000) });
    const pids = await t.pids({ id: 'c1' });
    assert.equal(pids.processes[1]!.info!.typeUrl, 'containerd.runc.v1.ProcessDetails');
    await assert.rejects(t.pause({ id: 'c1' }), (e: RpcError) => e.code === Code.FailedPrecondition);
    await assert.rejects(t.checkpoint({ id: 'c1', path: '' }), (e: RpcError) => e.code === Code.Unimplemented);
    assert.equal(await t.kill({ id: 'c1', execId: '', signal: 15, all: true }), undefined);
    const kill = calls.find((c) => c[0] === 'kill')!;
    assert.deepEqual(kill[1], { id: 'c1', execId: '', signal: 15, all: true });
    await t.update({ id: 'c1', annotations: { a: 'b' } });
    assert.deepEqual((calls.find((c) => c[0] === 'update')![1] as { annotations: unknown }).annotations, { a: 'b' });
    assert.deepEqual(await t.wait({ id: 'c1', execId: '' }), { exitStatus: 137, exitedAt: new Date(7000) });
    assert.deepEqual(await t.stats({ id: 'c1' }), {});
    assert.deepEqual(await t.connect({ id: 'c1' }), { shimPid: 1, taskPid: 10, version: '2' });
    await assert.rejects(t.shutdown({ id: 'c1', now: false }), (e: RpcError) => e.code === Code.Internal && e.message === 'boom');
    // A payload that is not a valid request is InvalidArgument, not a crash.
    await assert.rejects(client.call('containerd.task.v2.Task', 'Kill', Buffer.from([0x0a, 0x10])), (e: RpcError) => e.code === Code.InvalidArgument);
    // And a request with an unknown field number decodes (forward compatible).
    const withExtra = Buffer.concat([encode('containerd.task.v2.KillRequest', { id: 'z', execId: '', signal: 9, all: false }), Buffer.from([0xf8, 0x01, 0x01])]);
    await client.call('containerd.task.v2.Task', 'Kill', withExtra);
    assert.equal((calls.filter((c) => c[0] === 'kill')[1]![1] as { id: string }).id, 'z');
  } finally {
    client.close();
    await server.close();
  }
});
