// Server and client over real unix sockets in a temp dir (no root needed).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { encodeFrame, FrameReader, MessageType, type Frame } from '../../../src/ttrpc/frame.js';
import { Code, RpcError, TtrpcClient, TtrpcServer, type CallContext, type TtrpcConnection } from '../../../src/ttrpc/index.js';
import { decodeResponse, encodeRequest } from '../../../src/ttrpc/wire.js';
import { libc } from '../../../src/sys/libc.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vnode-ttrpc-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (b: Uint8Array) => Buffer.from(b).toString();

function echoServer(opts: ConstructorParameters<typeof TtrpcServer>[0] = {}) {
  const server = new TtrpcServer(opts);
  const seen: CallContext[] = [];
  server.register('test.Echo', {
    // Replies after the number of ms in the payload, so later requests can finish first.
    Delay: async (p, ctx) => {
      seen.push(ctx);
      await sleep(Number(text(p)));
      return p;
    },
    Hang: (_p, ctx) =>
      new Promise((_res, rej) => ctx.signal.addEventListener('abort', () => rej(ctx.signal.reason), { once: true })),
    Fail: async (p) => {
      throw new RpcError(Number(text(p)) as Code, `failed with ${text(p)}`);
    },
    Big: async () => new Uint8Array(4 * 1024 * 1024 + 1),
  });
  return { server, seen };
}

/** A raw connection that speaks frames directly (for protocol violations). */
async function raw(path: string) {
  const sock = net.createConnection(path);
  await new Promise((r) => sock.once('connect', r));
  const reader = new FrameReader();
  const frames: Frame[] = [];
  const waiters: (() => void)[] = [];
  sock.on('data', (c: Buffer) => {
    for (const e of reader.push(c)) if (e.kind === 'frame') frames.push(e.frame);
    for (const w of waiters.splice(0)) w();
  });
  return {
    sock,
    send: (id: number, type: number, payload: Uint8Array) => sock.write(encodeFrame(id, type, 0, payload)),
    async next(): Promise<Frame> {
      while (frames.length === 0) await new Promise<void>((r) => waiters.push(r));
      return frames.shift()!;
    },
  };
}

const req = (service: string, method: string, payload = '') =>
  encodeRequest({ service, method, payload: Buffer.from(payload), timeoutNano: 0n, metadata: [] });

test('concurrent calls on one connection complete out of order with the right payloads', async () => {
  const path = join(dir, 'a.sock');
  const { server } = echoServer();
  await server.listen(path);
  const c = new TtrpcClient(path);
  try {
    const delays = [80, 10, 50, 0, 30, 20, 60, 5];
    const order: string[] = [];
    const results = await Promise.all(
      delays.map((d) => c.call('test.Echo', 'Delay', Buffer.from(String(d))).then((p) => (order.push(text(p)), text(p)))),
    );
    assert.deepEqual(results, delays.map(String));
    assert.notDeepEqual(order, delays.map(String), 'responses arrived in request order: streams are not concurrent');
    assert.equal(order[0], '0');
  } finally {
    c.close();
    await server.close();
  }
});

test('many connections at once', async () => {
  const path = join(dir, 'b.sock');
  const { server } = echoServer();
  await server.listen(path);
  const clients = Array.from({ length: 20 }, () => new TtrpcClient(path));
  try {
    const got = await Promise.all(clients.map((c, i) => c.call('test.Echo', 'Delay', Buffer.from(String(i % 5)))));
    assert.deepEqual(got.map(text), clients.map((_c, i) => String(i % 5)));
    assert.equal(server.connections().length, 20);
  } finally {
    for (const c of clients) c.close();
    await server.close();
  }
});

test('errors come back as statuses with their codes; unknown service/method are Unimplemented', async () => {
  const path = join(dir, 'c.sock');
  const { server } = echoServer();
  await server.listen(path);
  const c = new TtrpcClient(path);
  try {
    for (const code of [Code.NotFound, Code.AlreadyExists, Code.FailedPrecondition, Code.InvalidArgument, Code.Internal]) {
      await assert.rejects(c.call('test.Echo', 'Fail', Buffer.from(String(code))), (e: RpcError) => e.code === code && e.message === `failed with ${code}`);
    }
    await assert.rejects(c.call('test.Echo', 'Nope', new Uint8Array()), (e: RpcError) => e.code === Code.Unimplemented && /method Nope/.test(e.message));
    await assert.rejects(c.call('no.Such', 'X', new Uint8Array()), (e: RpcError) => e.code === Code.Unimplemented && /service no.Such/.test(e.message));
    // An oversized response becomes ResourceExhausted instead of a frame the client would refuse.
    await assert.rejects(c.call('test.Echo', 'Big', new Uint8Array()), (e: RpcError) => e.code === Code.ResourceExhausted);
    // The connection is still usable.
    assert.equal(text(await c.call('test.Echo', 'Delay', Buffer.from('0'))), '0');
  } finally {
    c.close();
    await server.close();
  }
});

test('client timeout: DeadlineExceeded locally, timeout_nano reaches the handler as an aborted signal', async () => {
  const path = join(dir, 'd.sock');
  const { server } = echoServer();
  await server.listen(path);
  const c = new TtrpcClient(path);
  try {
    const t0 = Date.now();
    await assert.rejects(c.call('test.Echo', 'Hang', new Uint8Array(), { timeoutMs: 100 }), (e: RpcError) => e.code === Code.DeadlineExceeded);
    assert.ok(Date.now() - t0 < 1000);
    // The server's own timer aborted the handler: no stream left active.
    await sleep(50);
    assert.equal(server.connections()[0]!.activeStreams, 0);
  } finally {
    c.close();
    await server.close();
  }
});

test('metadata and deadline reach the handler', async () => {
  const path = join(dir, 'e.sock');
  const { server, seen } = echoServer();
  await server.listen(path);
  const c = new TtrpcClient(path);
  try {
    await c.call('test.Echo', 'Delay', Buffer.from('0'), { timeoutMs: 5000, metadata: [{ key: 'Containerd-Namespace-Ttrpc', value: 'k8s.io' }] });
    assert.deepEqual(seen[0]!.metadata.get('containerd-namespace-ttrpc'), ['k8s.io']);
    assert.ok(seen[0]!.deadline! > Date.now() && seen[0]!.deadline! <= Date.now() + 5000);
  } finally {
    c.close();
    await server.close();
  }
});

test('protocol violations: even stream id, reused stream id, data frame, unknown type, oversized frame', async () => {
  const path = join(dir, 'f.sock');
  const { server } = echoServer();
  await server.listen(path);
  const r = await raw(path);
  try {
    r.send(2, MessageType.Request, req('test.Echo', 'Delay', '0'));
    let f = await r.next();
    assert.equal(f.streamId, 2);
    assert.equal(decodeResponse(f.payload).status?.code, Code.InvalidArgument);

    r.send(5, MessageType.Request, req('test.Echo', 'Delay', '0'));
    f = await r.next();
    assert.equal(f.streamId, 5);
    assert.equal(f.type, MessageType.Response);
    assert.equal(decodeResponse(f.payload).status?.code ?? 0, Code.OK);

    r.send(3, MessageType.Request, req('test.Echo', 'Delay', '0')); // not increasing
    f = await r.next();
    assert.equal(decodeResponse(f.payload).status?.code, Code.InvalidArgument);
    assert.match(decodeResponse(f.payload).status!.message, /must increment/);

    r.send(7, MessageType.Data, Buffer.from('x'));
    f = await r.next();
    assert.equal(decodeResponse(f.payload).status?.code, Code.InvalidArgument);

    r.send(9, 0x42, Buffer.from('future')); // unknown type: ignored, no answer
    const header = Buffer.alloc(10);
    header.writeUInt32BE(4 * 1024 * 1024 + 1, 0);
    header.writeUInt32BE(11, 4);
    header[8] = MessageType.Request;
    r.sock.write(header);
    r.sock.write(Buffer.alloc(4 * 1024 * 1024 + 1));
    f = await r.next();
    assert.equal(f.streamId, 11, 'the unknown-type frame must not have been answered');
    assert.equal(decodeResponse(f.payload).status?.code, Code.ResourceExhausted);

    r.send(13, MessageType.Request, req('test.Echo', 'Delay', '0'));
    f = await r.next();
    assert.equal(f.streamId, 13);
    assert.equal(text(decodeResponse(f.payload).payload), '0');
  } finally {
    r.sock.destroy();
    await server.close();
  }
});

test('client stream ids are odd and increasing', async () => {
  const path = join(dir, 'g.sock');
  const ids: number[] = [];
  const srv = net.createServer((s) => {
    const reader = new FrameReader();
    s.on('data', (c: Buffer) => {
      for (const e of reader.push(c)) {
        if (e.kind !== 'frame') continue;
        ids.push(e.frame.streamId);
        s.write(encodeFrame(e.frame.streamId, MessageType.Response, 0, new Uint8Array(0)));
      }
    });
  });
  await new Promise<void>((r) => srv.listen(path, r));
  const c = new TtrpcClient(`unix://${path}`);
  try {
    for (let i = 0; i < 4; i++) await c.call('s', 'm', new Uint8Array());
    assert.deepEqual(ids, [1, 3, 5, 7]);
  } finally {
    c.close();
    await new Promise((r) => srv.close(r));
  }
});

test('client reconnects after the server restarts; pending calls fail Unavailable', async () => {
  const path = join(dir, 'h.sock');
  let { server } = echoServer();
  await server.listen(path);
  const c = new TtrpcClient(path);
  try {
    assert.equal(text(await c.call('test.Echo', 'Delay', Buffer.from('0'))), '0');
    const pending = c.call('test.Echo', 'Hang', new Uint8Array());
    await sleep(20);
    await Promise.all([server.close(), assert.rejects(pending, (e: RpcError) => e.code === Code.Unavailable || e.code === Code.Canceled)]);
    await assert.rejects(c.call('test.Echo', 'Delay', Buffer.from('0')), (e: RpcError) => e.code === Code.Unavailable);
    ({ server } = echoServer());
    await server.listen(path);
    assert.equal(text(await c.call('test.Echo', 'Delay', Buffer.from('1'))), '1');
  } finally {
    c.close();
    await server.close();
  }
});

test('adopt: a connection handed over as an fd keeps serving; fd and close hook are exposed', async () => {
  const path = join(dir, 'i.sock');
  // A plain listener stands in for "the previous manager": it accepts, then hands the fd over.
  const accepted: net.Socket[] = [];
  // pauseOnConnect: the old owner never reads, so the request stays queued in the kernel.
  const plain = net.createServer({ pauseOnConnect: true }, (s) => accepted.push(s));
  await new Promise<void>((r) => plain.listen(path, r));
  const closed: TtrpcConnection[] = [];
  const { server } = echoServer({ onConnectionClose: (c) => closed.push(c) });
  const c = new TtrpcClient(path);
  const dup = libc().func('int dup(int)') as (fd: number) => number;
  try {
    const first = c.call('test.Echo', 'Delay', Buffer.from('7')); // sent before anyone serves it
    while (accepted.length === 0) await sleep(5);
    const old = accepted[0]!;
    const oldFd = (old as unknown as { _handle: { fd: number } })._handle.fd;
    const fd = dup(oldFd);
    assert.ok(fd > 2);
    const conn = server.adopt(new net.Socket({ fd, readable: true, writable: true }));
    assert.equal(conn.fd, fd);
    assert.equal(text(await first), '7');
    assert.equal(text(await c.call('test.Echo', 'Delay', Buffer.from('1'))), '1');
    old.destroy(); // closing the old descriptor does not close the adopted one
    assert.equal(text(await c.call('test.Echo', 'Delay', Buffer.from('2'))), '2');
    c.close();
    while (closed.length === 0) await sleep(5);
    assert.equal(closed[0], conn);
  } finally {
    c.close();
    await server.close();
    await new Promise((r) => plain.close(r));
  }
});
