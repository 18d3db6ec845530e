// A minimal RFC 6455 WebSocket client over node:http's upgrade, enough for the Kubernetes
// remote-command protocol that containerd's CRI streaming server speaks (Node 20 has no
// WebSocket client). Client frames are masked (RFC 6455 §5.3); fragmented messages are
// reassembled; ping is answered with pong; close is echoed.
import { createHash, randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import * as http from 'node:http';
import * as https from 'node:https';
import type { Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'; // RFC 6455 §1.3

export const Opcode = { CONTINUATION: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa } as const;

export class WebSocketError extends Error {
  constructor(message: string, readonly statusCode?: number, readonly body?: string) {
    super(message);
    this.name = 'WebSocketError';
  }
}

export interface WebSocketConnectOptions {
  /** Offered subprotocols (Sec-WebSocket-Protocol), most preferred first. */
  protocols?: string[];
  headers?: Record<string, string>;
  timeoutMs?: number;
}

/** Frame parser states (RFC 6455 §5.2). */
const enum ParseState { HEADER, LENGTH16, LENGTH64, MASK, PAYLOAD }

/**
 * Events: 'message' (data: Buffer, binary: boolean), 'close' (code: number, reason: string),
 * 'error' (err: Error). 'close' is emitted exactly once, also when the socket just ends.
 * Nothing is lost before the first listener is added: messages and the close are held
 * until a 'message' or 'close' listener exists (add both in the same tick).
 */
export class WebSocketClient extends EventEmitter {
  /** The subprotocol the server selected ('' if none). */
  readonly protocol: string;
  private readonly socket: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private state = ParseState.HEADER;
  private fin = false;
  private opcode = 0;
  private masked = false;
  private mask = Buffer.alloc(4);
  private payloadLen = 0;
  private fragments: Buffer[] = [];
  private fragmentOpcode = 0;
  private closeSent = false;
  private closed = false;

  private constructor(socket: Socket, protocol: string, head: Buffer) {
    super();
    this.socket = socket;
    this.protocol = protocol;
    socket.setNoDelay(true);
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (err) => this.emit('error', err));
    socket.on('close', () => this.finish(1006, 'connection closed without a close frame'));
    // Messages (and the close) that arrive before anyone listens, e.g. frames that came in
    // the same packet as the 101 response, are held until a 'message' or 'close' listener
    // is added, and released in order one microtask later (so both can be added first).
    this.on('newListener', (event: string) => {
      if ((event === 'message' || event === 'close') && this.held && !this.releasing) {
        this.releasing = true;
        queueMicrotask(() => this.release());
      }
    });
    if (head.length) this.onData(head);
  }

  private held: [string, unknown[]][] | null = [];
  private releasing = false;

  private deliver(event: 'message' | 'close', ...args: unknown[]) {
    if (this.held) this.held.push([event, args]);
    else this.emit(event, ...args);
  }

  private release() {
    const held = this.held ?? [];
    this.held = null;
    for (const [event, args] of held) this.emit(event, ...args);
  }

  /** Opens ws:// or wss:// (http:// and https:// are accepted too, as the CRI returns them). */
  static connect(url: string, opts: WebSocketConnectOptions = {}): Promise<WebSocketClient> {
    const u = new URL(url);
    const secure = u.protocol === 'https:' || u.protocol === 'wss:';
    const key = randomBytes(16).toString('base64');
    const headers: Record<string, string> = {
      Connection: 'Upgrade',
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': key,
      ...(opts.protocols?.length ? { 'Sec-WebSocket-Protocol': opts.protocols.join(', ') } : {}),
      ...opts.headers,
    };
    const lib = secure ? https : http;
    return new Promise((resolve, reject) => {
      const req = lib.request({
        host: u.hostname, port: u.port || (secure ? 443 : 80), path: u.pathname + u.search, method: 'GET', headers,
        timeout: opts.timeoutMs ?? 30_000,
      });
      req.on('timeout', () => req.destroy(new WebSocketError(`websocket ${url}: handshake timed out`)));
      req.on('error', reject);
      req.on('response', (res) => {
        // Not upgraded: the server refused; report its status and body.
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { if (body.length < 4096) body += c; });
        res.on('end', () => reject(new WebSocketError(`websocket ${url}: HTTP ${res.statusCode}: ${body.trim()}`, res.statusCode, body)));
      });
      req.on('upgrade', (res, socket, head) => {
        const accept = createHash('sha1').update(key + GUID).digest('base64');
        if (res.statusCode !== 101 || res.headers['sec-websocket-accept'] !== accept) {
          socket.destroy();
          reject(new WebSocketError(`websocket ${url}: bad handshake (status ${res.statusCode})`, res.statusCode));
          return;
        }
        const protocol = String(res.headers['sec-websocket-protocol'] ?? '');
        if (opts.protocols?.length && protocol && !opts.protocols.includes(protocol)) {
          socket.destroy();
          reject(new WebSocketError(`websocket ${url}: server chose unoffered subprotocol ${protocol}`));
          return;
        }
        resolve(new WebSocketClient(socket, protocol, head));
      });
      req.end();
    });
  }

  get isOpen(): boolean {
    return !this.closed && !this.closeSent;
  }

  send(data: Buffer | string, binary = typeof data !== 'string'): void {
    this.sendFrame(binary ? Opcode.BINARY : Opcode.TEXT, typeof data === 'string' ? Buffer.from(data) : data);
  }

  /** Starts the closing handshake; 'close' follows when the server answers or the socket ends. */
  close(code = 1000, reason = ''): void {
    if (this.closed || this.closeSent) return;
    const r = Buffer.from(reason);
    const payload = Buffer.alloc(2 + r.length);
    payload.writeUInt16BE(code, 0);
    r.copy(payload, 2);
    this.sendFrame(Opcode.CLOSE, payload);
    this.closeSent = true;
    const t = setTimeout(() => this.socket.destroy(), 2_000);
    t.unref();
  }

  /** Drops the connection without a closing handshake. */
  terminate(): void {
    this.socket.destroy();
  }

  private sendFrame(opcode: number, payload: Buffer) {
    if (this.closed || this.closeSent) throw new WebSocketError('websocket: send after close');
    const len = payload.length;
    const headLen = len < 126 ? 2 : len < 65536 ? 4 : 10;
    const frame = Buffer.alloc(headLen + 4 + len);
    frame[0] = 0x80 | opcode; // FIN + opcode
    if (len < 126) frame[1] = 0x80 | len;
    else if (len < 65536) { frame[1] = 0x80 | 126; frame.writeUInt16BE(len, 2); }
    else { frame[1] = 0x80 | 127; frame.writeBigUInt64BE(BigInt(len), 2); }
    const mask = randomBytes(4);
    mask.copy(frame, headLen);
    for (let i = 0; i < len; i++) frame[headLen + 4 + i] = payload[i]! ^ mask[i & 3]!;
    this.socket.write(frame);
  }

  private onData(d: Buffer) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    try {
      while (this.step()) { /* parse as far as the buffer goes */ }
    } catch (err) {
      this.emit('error', err);
      this.socket.destroy();
    }
  }

  /** Advances the parser by one state; false when more bytes are needed. */
  private step(): boolean {
    switch (this.state) {
      case ParseState.HEADER: {
        if (this.buf.length < 2) return false;
        const b0 = this.buf[0]!, b1 = this.buf[1]!;
        if (b0 & 0x70) throw new WebSocketError('websocket: reserved bits set without an extension');
        this.fin = (b0 & 0x80) !== 0;
        this.opcode = b0 & 0x0f;
        this.masked = (b1 & 0x80) !== 0;
        const len7 = b1 & 0x7f;
        this.buf = this.buf.subarray(2);
        if (len7 === 126) this.state = ParseState.LENGTH16;
        else if (len7 === 127) this.state = ParseState.LENGTH64;
        else { this.payloadLen = len7; this.state = this.masked ? ParseState.MASK : ParseState.PAYLOAD; }
        return true;
      }
      case ParseState.LENGTH16:
        if (this.buf.length < 2) return false;
        this.payloadLen = this.buf.readUInt16BE(0);
        this.buf = this.buf.subarray(2);
        this.state = this.masked ? ParseState.MASK : ParseState.PAYLOAD;
        return true;
      case ParseState.LENGTH64: {
        if (this.buf.length < 8) return false;
        const n = this.buf.readBigUInt64BE(0);
        if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new WebSocketError('websocket: frame too large');
        this.payloadLen = Number(n);
        this.buf = this.buf.subarray(8);
        this.state = this.masked ? ParseState.MASK : ParseState.PAYLOAD;
        return true;
      }
      case ParseState.MASK:
        if (this.buf.length < 4) return false;
        this.mask = Buffer.from(this.buf.subarray(0, 4));
        this.buf = this.buf.subarray(4);
        this.state = ParseState.PAYLOAD;
        return true;
      case ParseState.PAYLOAD: {
        if (this.buf.length < this.payloadLen) return false;
        let payload = Buffer.from(this.buf.subarray(0, this.payloadLen));
        this.buf = this.buf.subarray(this.payloadLen);
        if (this.masked) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ this.mask[i & 3]!;
        this.state = ParseState.HEADER;
        this.onFrame(this.fin, this.opcode, payload);
        payload = Buffer.alloc(0);
        return true;
      }
    }
  }

  private onFrame(fin: boolean, opcode: number, payload: Buffer) {
    switch (opcode) {
      case Opcode.PING:
        if (!this.closeSent && !this.closed) this.sendFrame(Opcode.PONG, payload);
        return;
      case Opcode.PONG:
        return;
      case Opcode.CLOSE: {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        const reason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
        if (!this.closeSent) {
          try { this.sendFrame(Opcode.CLOSE, payload.subarray(0, 2)); } catch { /* socket gone */ }
          this.closeSent = true;
        }
        this.finish(code, reason);
        this.socket.end();
        return;
      }
      case Opcode.TEXT:
      case Opcode.BINARY:
        if (this.fragments.length) throw new WebSocketError('websocket: new message inside a fragmented one');
        if (fin) { this.deliver('message', payload, opcode === Opcode.BINARY); return; }
        this.fragmentOpcode = opcode;
        this.fragments.push(payload);
        return;
      case Opcode.CONTINUATION:
        if (!this.fragments.length) throw new WebSocketError('websocket: continuation without a message');
        this.fragments.push(payload);
        if (fin) {
          const data = Buffer.concat(this.fragments);
          this.fragments = [];
          this.deliver('message', data, this.fragmentOpcode === Opcode.BINARY);
        }
        return;
      default:
        throw new WebSocketError(`websocket: unknown opcode ${opcode}`);
    }
  }

  private finish(code: number, reason: string) {
    if (this.closed) return;
    this.closed = true;
    this.deliver('close', code, reason);
  }
}
