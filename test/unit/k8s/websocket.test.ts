// The WebSocket client against a small RFC 6455 server written here (node:http upgrade):
// handshake and subprotocol, masking, 16/64-bit lengths, fragmentation, ping/pong, close.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { WebSocketClient, WebSocketError } from '../../../src/k8s/cri/websocket.js';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function frame(opcode: number, payload: Buffer, fin = true): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0, len]) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (len >= 126 && len < 65536) { head[1] = 126; head.writeUInt16BE(len, 2); }
  if (len >= 65536) { head[1] = 127; head.writeBigUInt64BE(BigInt(len), 2); }
  return Buffer.concat([head, payload]);
}

/** Parses one masked client frame; returns [opcode, payload, rest] or undefined if incomplete. */
function parseClientFrame(buf: Buffer): [number, Buffer, Buffer] | undefined {
  if (buf.length < 2) return undefined;
  assert.ok(buf[1]! & 0x80, 'client frames must be masked');
  let len = buf[1]! & 0x7f;
  let off = 2;
  if (len === 126) { len = buf.readUInt16BE(2); off = 4; } else if (len === 127) { len = Number(buf.readBigUInt64BE(2)); off = 10; }
  if (buf.length < off + 4 + len) return undefined;
  const mask = buf.subarray(off, off + 4);
  const payload = Buffer.from(buf.subarray(off + 4, off + 4 + len));
  for (let i = 0; i < len; i++) payload[i] = payload[i]! ^ mask[i & 3]!;
  return [buf[0]! & 0x0f, payload, buf.subarray(off + 4 + len)];
}

let server: Server;
let port = 0;
const received: [number, Buffer][] = [];

before(async () => {
  server = createServer((_req, res) => { res.writeHead(403); res.end('forbidden here'); });
  server.on('upgrade', (req, socket: Socket) => {
    const key = String(req.headers['sec-websocket-key']);
    const offered = String(req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
    const accept = createHash('sha1').update(key + GUID).digest('base64');
    const proto = offered.includes('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : '';
    socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${proto ? `Sec-WebSocket-Protocol: ${proto}\r\n` : ''}\r\n`);
    let buf: Buffer = Buffer.alloc(0);
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      for (let f = parseClientFrame(buf); f; f = parseClientFrame(buf)) {
        const [op, payload, rest] = f;
        buf = rest;
        received.push([op, payload]);
        if (op === 0x8) { socket.end(frame(0x8, payload)); return; }
        if (op === 0xa) continue; // pong
        const text = payload.toString();
        if (text === 'big') socket.write(frame(0x2, Buffer.alloc(70_000, 7)));
        else if (text === 'medium') socket.write(frame(0x2, Buffer.alloc(300, 1)));
        else if (text === 'fragments') {
          // a ping between the fragments of one message, all in one TCP write
          socket.write(Buffer.concat([frame(0x1, Buffer.from('frag-'), false), frame(0x9, Buffer.from('p')), frame(0x0, Buffer.from('ment'), true)]));
        } else if (text === 'server-close') socket.write(frame(0x8, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.from('bye')])));
        else socket.write(frame(op, payload)); // echo
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => { server.close(); });

test('handshake selects the subprotocol; echo of binary and text', { timeout: 10_000 }, async () => {
  const ws = await WebSocketClient.connect(`http://127.0.0.1:${port}/x`, { protocols: ['v5.channel.k8s.io', 'v4.channel.k8s.io'] });
  assert.equal(ws.protocol, 'v4.channel.k8s.io');
  const got: [Buffer, boolean][] = [];
  ws.on('message', (d: Buffer, bin: boolean) => got.push([d, bin]));
  ws.send(Buffer.from([1, 2, 3]));
  ws.send('hello');
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(got.map(([d, b]) => [[...d], b]), [[[1, 2, 3], true], [[...Buffer.from('hello')], false]]);
  ws.close();
  const [code] = await new Promise<[number, string]>((r) => ws.on('close', (c: number, reason: string) => r([c, reason])));
  assert.equal(code, 1000);
});

test('16- and 64-bit payload lengths, fragmented message with an interleaved ping', { timeout: 10_000 }, async () => {
  const ws = await WebSocketClient.connect(`ws://127.0.0.1:${port}/`);
  const got: Buffer[] = [];
  ws.on('message', (d: Buffer) => got.push(d));
  ws.send('medium');
  ws.send('big');
  ws.send('fragments');
  ws.send(Buffer.alloc(66_000, 9)); // client side 64-bit length, echoed
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(got[0]?.length, 300);
  assert.equal(got[1]?.length, 70_000);
  assert.equal(got[2]?.toString(), 'frag-ment');
  assert.equal(got[3]?.length, 66_000);
  assert.ok(got[3]?.every((b) => b === 9));
  assert.ok(received.some(([op, p]) => op === 0xa && p.toString() === 'p'), 'ping answered with pong');
  ws.close();
});

test('server-initiated close is reported with code and reason', { timeout: 10_000 }, async () => {
  const ws = await WebSocketClient.connect(`ws://127.0.0.1:${port}/`);
  const closed = new Promise<[number, string]>((r) => ws.on('close', (c: number, reason: string) => r([c, reason])));
  ws.send('server-close');
  assert.deepEqual(await closed, [1000, 'bye']);
  assert.equal(ws.isOpen, false);
});

test('a refused upgrade reports the HTTP status and body', { timeout: 10_000 }, async () => {
  const srv = createServer((_req, res) => { res.writeHead(404); res.end('no such session'); });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  try {
    await assert.rejects(WebSocketClient.connect(`http://127.0.0.1:${(srv.address() as AddressInfo).port}/exec/abc`), (err: unknown) => {
      assert.ok(err instanceof WebSocketError);
      assert.equal(err.statusCode, 404);
      assert.match(err.message, /HTTP 404: no such session/);
      return true;
    });
  } finally { srv.close(); }
});
