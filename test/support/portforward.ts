// CRI PortForward as kubectl port-forward uses it, over WebSocket: the URL PortForward
// returns, with ?port=<n>; channel 2i carries port i's data, 2i+1 its errors, and the
// server's first message on each channel is the port number (2 bytes, little-endian).
// Enough for a test: one port, send some bytes, collect what comes back until the
// server closes or `until` says it is enough.
import * as grpc from '@grpc/grpc-js';
import WebSocket from 'ws';

// The generated CRI code has no PortForward; its two messages are small enough to encode here:
// PortForwardRequest { string pod_sandbox_id = 1; repeated int32 port = 2; } → { string url = 1; }
function varint(n: number): number[] {
  const out: number[] = [];
  for (; n > 0x7f; n >>>= 7) out.push((n & 0x7f) | 0x80);
  out.push(n);
  return out;
}

function encodeRequest(id: string, ports: number[]): Buffer {
  const idb = Buffer.from(id);
  const packed = ports.flatMap(varint);
  return Buffer.from([0x0a, ...varint(idb.length), ...idb, 0x12, ...varint(packed.length), ...packed]);
}

function decodeUrl(b: Buffer): string {
  let i = 0;
  while (i < b.length) {
    const tag = b[i++]!;
    let len = 0;
    for (let shift = 0; ; shift += 7) {
      const c = b[i++]!;
      len |= (c & 0x7f) << shift;
      if (!(c & 0x80)) break;
    }
    if (tag === 0x0a) return b.subarray(i, i + len).toString('utf8');
    i += len;
  }
  return '';
}

/** CRI PortForward: the streaming URL for the sandbox's ports. */
export function portForwardUrl(address: string, sandboxId: string, ports: number[]): Promise<string> {
  const client = new grpc.Client(`unix:${address}`, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.makeUnaryRequest(
      '/runtime.v1.RuntimeService/PortForward',
      (r: Buffer) => r,
      (b: Buffer) => b,
      encodeRequest(sandboxId, ports),
      new grpc.Metadata(),
      { deadline: Date.now() + 15_000 },
      (err, res) => {
        client.close();
        if (err) reject(err);
        else resolve(decodeUrl(res!));
      },
    );
  });
}

export interface ForwardResult {
  data: Buffer;
  error: string;
}

export async function portForwardOnce(address: string, sandboxId: string, port: number, send: Buffer | string, opts: { timeoutMs?: number; until?: (data: Buffer) => boolean } = {}): Promise<ForwardResult> {
  const url = await portForwardUrl(address, sandboxId, [port]);
  const ws = new WebSocket(`${url}?port=${port}`, ['v4.channel.k8s.io'], { perMessageDeflate: false, handshakeTimeout: 10_000 });
  const data: Buffer[] = [];
  const errors: Buffer[] = [];
  const seen = new Set<number>();
  return new Promise<ForwardResult>((resolve, reject) => {
    const timer = setTimeout(() => { ws.terminate(); }, opts.timeoutMs ?? 15_000);
    const finish = () => {
      clearTimeout(timer);
      resolve({ data: Buffer.concat(data), error: Buffer.concat(errors).toString('utf8') });
    };
    ws.on('error', (e) => { clearTimeout(timer); reject(e); });
    ws.on('open', () => {
      ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(send)]));
    });
    ws.on('message', (raw: WebSocket.RawData) => {
      const m = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw as ArrayBuffer);
      if (m.length === 0) return;
      const ch = m[0]!;
      let payload = m.subarray(1);
      if (!seen.has(ch)) {
        seen.add(ch);
        payload = payload.subarray(2); // the port number
      }
      if (payload.length === 0) return;
      if (ch === 0) data.push(payload);
      else errors.push(payload);
      if (opts.until?.(Buffer.concat(data))) ws.close(1000);
    });
    ws.on('close', finish);
  });
}
