// EventPublisher against an in-process ttrpc Events service that can go away.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { decode, unpackAny, type ForwardRequest } from '../../../src/proto/index.js';
import { EventPublisher } from '../../../src/taskapi/index.js';
import { Code, RpcError, TtrpcServer } from '../../../src/ttrpc/index.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vnode-events-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

interface Got {
  topic: string;
  namespace: string;
  header: string | undefined;
  event: Record<string, unknown>;
  timestamp: Date | undefined;
}

async function eventsServer(path: string, got: Got[], reject?: (f: ForwardRequest) => boolean) {
  const s = new TtrpcServer();
  s.register('containerd.services.events.ttrpc.v1.Events', {
    Forward: async (p, ctx) => {
      const f = decode<ForwardRequest>('containerd.services.events.ttrpc.v1.ForwardRequest', p);
      if (reject?.(f)) throw new RpcError(Code.InvalidArgument, 'rejected');
      const e = f.envelope!;
      got.push({ topic: e.topic, namespace: e.namespace, header: ctx.metadata.get('containerd-namespace-ttrpc')?.[0], event: unpackAny(e.event!), timestamp: e.timestamp });
      return new Uint8Array(0);
    },
  });
  await s.listen(path);
  return s;
}

test('events arrive in order with topic, namespace, type and timestamp', async () => {
  const path = join(dir, 'a.sock');
  const got: Got[] = [];
  const s = await eventsServer(path, got);
  const p = new EventPublisher({ address: `unix://${path}` });
  try {
    const before = Date.now();
    p.publish('/tasks/create', 'k8s.io', { containerId: 'c1', bundle: '/b', rootfs: [], checkpoint: '', pid: 10, io: { stdin: '', stdout: '/o', stderr: '', terminal: false } });
    p.publish('/tasks/start', 'k8s.io', { containerId: 'c1', pid: 10 });
    p.publish('/tasks/exit', 'default', { containerId: 'c1', id: 'c1', pid: 10, exitStatus: 3, exitedAt: new Date(9000) });
    assert.equal(await p.flush(5000), true);
    assert.deepEqual(got.map((g) => g.topic), ['/tasks/create', '/tasks/start', '/tasks/exit']);
    assert.deepEqual(got.map((g) => g.namespace), ['k8s.io', 'k8s.io', 'default']);
    assert.deepEqual(got.map((g) => g.header), ['k8s.io', 'k8s.io', 'default']);
    assert.equal(got[0]!.event.pid, 10);
    assert.equal((got[0]!.event.io as { stdout: string }).stdout, '/o');
    assert.deepEqual(got[2]!.event.exitedAt, new Date(9000));
    assert.ok(got[0]!.timestamp!.getTime() >= before - 1 && got[0]!.timestamp!.getTime() <= Date.now());
    assert.equal(p.forwarded, 3);
  } finally {
    await p.close();
    await s.close();
  }
});

test('containerd unreachable: events are kept and delivered in order once it is back', async () => {
  const path = join(dir, 'b.sock');
  const got: Got[] = [];
  const errors: Error[] = [];
  const p = new EventPublisher({ address: path, retryDelayMs: 10, maxRetryDelayMs: 50, onError: (e) => errors.push(e) });
  let s: TtrpcServer | undefined;
  try {
    for (let i = 0; i < 50; i++) p.publish('/tasks/exec-added', 'ns', { containerId: 'c', execId: `e${i}` });
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(got.length, 0);
    assert.equal(p.pending, 50);
    assert.ok(errors.length > 0, 'failed attempts are reported');
    s = await eventsServer(path, got);
    assert.equal(await p.flush(5000), true);
    assert.deepEqual(got.map((g) => g.event.execId), Array.from({ length: 50 }, (_v, i) => `e${i}`));
    // Goes away again mid-stream, comes back: still nothing lost.
    await s.close();
    p.publish('/tasks/exec-started', 'ns', { containerId: 'c', execId: 'late', pid: 5 });
    await new Promise((r) => setTimeout(r, 60));
    s = await eventsServer(path, got);
    assert.equal(await p.flush(5000), true);
    assert.equal(got.at(-1)!.topic, '/tasks/exec-started');
    assert.equal(p.dropped, 0);
  } finally {
    await p.close(100);
    await s?.close();
  }
});

test('an event containerd rejects is dropped and does not block the ones behind it', async () => {
  const path = join(dir, 'c.sock');
  const got: Got[] = [];
  const s = await eventsServer(path, got, (f) => f.envelope!.topic === '/tasks/oom');
  const dropped: string[] = [];
  const p = new EventPublisher({ address: path, onError: (e, ev) => e instanceof RpcError && e.code === Code.InvalidArgument && dropped.push(ev.topic) });
  try {
    p.publish('/tasks/oom', 'ns', { containerId: 'c' });
    p.publish('/tasks/paused', 'ns', { containerId: 'c' });
    p.publish('/tasks/resumed', 'ns', { containerId: 'c' });
    assert.equal(await p.flush(5000), true);
    assert.deepEqual(dropped, ['/tasks/oom']);
    assert.deepEqual(got.map((g) => g.topic), ['/tasks/paused', '/tasks/resumed']);
    assert.equal(p.dropped, 1);
  } finally {
    await p.close();
    await s.close();
  }
});

test('bounded queue drops the oldest', async () => {
  const p = new EventPublisher({ address: join(dir, 'nothing.sock'), maxQueue: 3, retryDelayMs: 1000 });
  for (let i = 0; i < 5; i++) p.publish('/tasks/oom', 'ns', { containerId: `c${i}` });
  assert.equal(p.pending, 3);
  assert.equal(p.dropped, 2);
  await p.close(10);
  assert.throws(() => p.publish('/tasks/oom', 'ns', { containerId: 'x' }));
});
