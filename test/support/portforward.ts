// CRI PortForward as kubectl port-forward uses it, over WebSocket: the URL PortForward
// returns, with ?port=<n>; channel 2i carries port i's data, 2i+1 its errors, and the
// server's first message on each channel is the port number (2 bytes, little-endian).
// Enough for a test: one port, send some bytes, collect what comes back until the
// server closes or `until` says it is enough.
import WebSocket from 'ws';
import type { CriClient } from '../../src/k8s/cri/index.js';

export interface ForwardResult {
  data: Buffer;
  error: string;
}

export async function portForwardOnce(cri: CriClient, sandboxId: string, port: number, send: Buffer | string, opts: { timeoutMs?: number; until?: (data: Buffer) => boolean } = {}): Promise<ForwardResult> {
  const { url } = await cri.call<{ url: string }>('runtime', 'PortForward', { pod_sandbox_id: sandboxId, port: [port] });
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
