// ttrpc client: unary calls over one unix-socket connection, with per-call timeouts
// and reconnection. Stream ids are odd and increase by 2 per call; a new connection
// starts again at 1.
import net from 'node:net';
import { encodeFrame, FrameReader, MessageType } from './frame.js';
import { Code, RpcError } from './status.js';
import { decodeResponse, encodeRequest, type KeyValue } from './wire.js';

export interface CallOptions {
  /** Timeout in ms: sent to the server as timeout_nano and enforced locally. 0 = none. */
  timeoutMs?: number;
  metadata?: KeyValue[];
  signal?: AbortSignal;
}

export interface TtrpcClientOptions {
  /** Timeout of each connection attempt, ms (default 5000). */
  connectTimeoutMs?: number;
  /** Default call timeout, ms (default 0 = none). */
  timeoutMs?: number;
}

interface Pending {
  resolve(p: Uint8Array): void;
  reject(e: Error): void;
}

/** Strips the `unix://` scheme containerd uses in addresses. */
export function socketPath(address: string): string {
  return address.startsWith('unix://') ? address.slice('unix://'.length) : address;
}

export class TtrpcClient {
  private socket: net.Socket | undefined;
  private connecting: Promise<net.Socket> | undefined;
  private nextStreamId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  constructor(
    readonly address: string,
    private readonly opts: TtrpcClientOptions = {},
  ) {}

  /** Unary call. Rejects with RpcError (the server's status, Unavailable when the connection fails, DeadlineExceeded on timeout). */
  async call(service: string, method: string, payload: Uint8Array, o: CallOptions = {}): Promise<Uint8Array> {
    if (this.closed) throw new RpcError(Code.Unavailable, 'ttrpc: client closed');
    const timeoutMs = o.timeoutMs ?? this.opts.timeoutMs ?? 0;
    const sock = await this.connect();
    const id = this.nextStreamId;
    this.nextStreamId += 2;
    const body = encodeRequest({
      service,
      method,
      payload,
      timeoutNano: BigInt(Math.max(0, Math.floor(timeoutMs))) * 1_000_000n,
      metadata: o.metadata ?? [],
    });
    return new Promise<Uint8Array>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => finish(new RpcError(Code.Canceled, 'ttrpc: call canceled'));
      const finish = (err: Error | undefined, p?: Uint8Array) => {
        if (!this.pending.delete(id)) return;
        if (timer) clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(p!);
      };
      this.pending.set(id, { resolve: (p) => finish(undefined, p), reject: (e) => finish(e) });
      if (timeoutMs > 0) {
        timer = setTimeout(() => finish(new RpcError(Code.DeadlineExceeded, `ttrpc: ${service}/${method} timed out after ${timeoutMs} ms`)), timeoutMs);
      }
      if (o.signal) {
        if (o.signal.aborted) return onAbort();
        o.signal.addEventListener('abort', onAbort, { once: true });
      }
      try {
        sock.write(encodeFrame(id, MessageType.Request, 0, body));
      } catch (err) {
        finish(err as Error);
      }
    });
  }

  /** Closes the connection; pending calls fail with Unavailable. Later calls fail too. */
  close(): void {
    this.closed = true;
    this.socket?.destroy();
    this.failAll(new RpcError(Code.Unavailable, 'ttrpc: client closed'));
  }

  /** Drops the current connection (the next call reconnects). */
  disconnect(): void {
    this.socket?.destroy();
  }

  private connect(): Promise<net.Socket> {
    if (this.socket && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<net.Socket>((resolve, reject) => {
      const sock = net.createConnection(socketPath(this.address));
      const ms = this.opts.connectTimeoutMs ?? 5000;
      const timer = setTimeout(() => sock.destroy(new Error(`connect timeout after ${ms} ms`)), ms);
      const reader = new FrameReader();
      sock.once('connect', () => {
        clearTimeout(timer);
        this.socket = sock;
        this.nextStreamId = 1;
        this.connecting = undefined;
        resolve(sock);
      });
      sock.on('data', (chunk: Buffer) => {
        for (const ev of reader.push(chunk)) {
          const id = ev.kind === 'frame' ? ev.frame.streamId : ev.header.streamId;
          const p = this.pending.get(id);
          if (!p) continue;
          if (ev.kind === 'oversized') {
            p.reject(new RpcError(Code.ResourceExhausted, `ttrpc: response length ${ev.header.length} exceeds the maximum message size`));
            continue;
          }
          if (ev.frame.type !== MessageType.Response) continue;
          let resp;
          try {
            resp = decodeResponse(ev.frame.payload);
          } catch (err) {
            p.reject(new RpcError(Code.Internal, `ttrpc: bad response: ${(err as Error).message}`));
            continue;
          }
          if (resp.status && resp.status.code !== Code.OK) p.reject(RpcError.fromStatus(resp.status));
          else p.resolve(resp.payload);
        }
      });
      sock.on('error', (err) => {
        clearTimeout(timer);
        if (this.connecting && this.socket !== sock) {
          this.connecting = undefined;
          reject(new RpcError(Code.Unavailable, `ttrpc: connect ${this.address}: ${err.message}`));
        }
      });
      sock.on('close', () => {
        clearTimeout(timer);
        // Only the live connection's calls are pending; a failed attempt has none.
        if (this.socket !== sock) return;
        this.socket = undefined;
        this.failAll(new RpcError(Code.Unavailable, 'ttrpc: connection closed'));
      });
    });
    return this.connecting;
  }

  private failAll(err: Error): void {
    for (const p of [...this.pending.values()]) p.reject(err);
  }
}
