// ttrpc server: unary methods over many connections, many concurrent streams each.
//
// Connections can be accepted from a listening socket (`listen`, `listenFd`) or adopted
// already connected (`adopt`): the manager hands the descriptors of containerd's
// connections to a holder process and a restarted manager adopts them back, so
// containerd never sees its connection drop. Each connection exposes its fd for that.
import { EventEmitter } from 'node:events';
import { existsSync, unlinkSync } from 'node:fs';
import net from 'node:net';
import { encodeFrame, FrameReader, MAX_MESSAGE_LENGTH, MessageType, type Frame } from './frame.js';
import { Code, RpcError, toStatus, type Status } from './status.js';
import { decodeRequest, encodeResponse, type KeyValue } from './wire.js';

/** Everything a handler learns about the call besides its payload. */
export interface CallContext {
  service: string;
  method: string;
  /** Request metadata (ttrpc KeyValue list), keys lower-cased as containerd does. */
  metadata: Map<string, string[]>;
  /** Aborted when the request's timeout passes or the connection closes. */
  signal: AbortSignal;
  /** Absolute deadline in ms since the epoch, if the client set a timeout. */
  deadline?: number;
  connection: TtrpcConnection;
}

/** A unary method: decoded request payload in, encoded response payload out. Throw RpcError for a status. */
export type UnaryHandler = (payload: Uint8Array, ctx: CallContext) => Promise<Uint8Array>;

export interface TtrpcServerOptions {
  /** Called once per connection (accepted or adopted). */
  onConnection?: (c: TtrpcConnection) => void;
  /** Called once when a connection is gone (peer closed, error, or server close). */
  onConnectionClose?: (c: TtrpcConnection) => void;
  /** Called for failures that have no caller to report to (bad frames, write errors). */
  onError?: (err: Error, c?: TtrpcConnection) => void;
  /** Keeps long-running requests until answered, so a restarted server can answer them. */
  journal?: RequestJournal;
}

/**
 * Where a server records requests it has read but not yet answered (e.g. Task.Wait,
 * which containerd keeps open for a container's lifetime). A server that adopts a
 * connection after a restart replays them with `TtrpcConnection.replay`.
 */
export interface RequestJournal {
  wants(service: string, method: string): boolean;
  begin(c: TtrpcConnection, streamId: number, request: Uint8Array): void;
  end(c: TtrpcConnection, streamId: number): void;
}

let nextConnectionId = 1;

/** One client connection. `fd` is the kernel descriptor (-1 if Node does not expose one). */
export class TtrpcConnection {
  readonly id = nextConnectionId++;
  private readonly reader = new FrameReader();
  private lastStreamId = 0;
  private readonly inflight = new Map<number, AbortController>();
  private closed = false;

  constructor(
    readonly socket: net.Socket,
    private readonly server: TtrpcServer,
  ) {}

  get fd(): number {
    const h = (this.socket as unknown as { _handle?: { fd?: number } })._handle;
    return typeof h?.fd === 'number' ? h.fd : -1;
  }

  /** Number of requests whose handler has not finished. */
  get activeStreams(): number {
    return this.inflight.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }

  /** @internal */
  start(): void {
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.server.reportError(err, this));
    this.socket.on('close', () => this.onClose());
  }

  private onData(chunk: Buffer): void {
    for (const ev of this.reader.push(chunk)) {
      if (ev.kind === 'oversized') {
        this.sendStatus(ev.header.streamId, {
          code: Code.ResourceExhausted,
          message: `message length ${ev.header.length} exceed maximum message size of ${MAX_MESSAGE_LENGTH}`,
          details: [],
        });
        continue;
      }
      this.onFrame(ev.frame);
    }
  }

  private onFrame(f: Frame): void {
    if (f.type !== MessageType.Request && f.type !== MessageType.Data) return; // unknown types: ignored for forward compatibility
    if (f.streamId % 2 !== 1) {
      this.sendStatus(f.streamId, { code: Code.InvalidArgument, message: 'StreamID must be odd for client initiated streams', details: [] });
      return;
    }
    if (f.type === MessageType.Data) {
      // Only unary methods are served: no stream is ever open for data.
      this.sendStatus(f.streamId, { code: Code.InvalidArgument, message: 'StreamID is no longer active', details: [] });
      return;
    }
    if (f.streamId <= this.lastStreamId) {
      this.sendStatus(f.streamId, { code: Code.InvalidArgument, message: 'StreamID cannot be re-used and must increment', details: [] });
      return;
    }
    this.lastStreamId = f.streamId;
    this.dispatch(f.streamId, f.payload, true);
  }

  /**
   * Serves a request read from this connection by an earlier server process (see
   * RequestJournal); its answer goes to the same stream, which the client still awaits.
   */
  replay(streamId: number, request: Uint8Array): void {
    if (streamId > this.lastStreamId) this.lastStreamId = streamId;
    this.dispatch(streamId, request, false);
  }

  private dispatch(streamId: number, payload: Uint8Array, journal: boolean): void {
    const f = { streamId, payload };
    let req;
    try {
      req = decodeRequest(f.payload);
    } catch (err) {
      this.sendStatus(f.streamId, { code: Code.InvalidArgument, message: `unmarshal request error: ${(err as Error).message}`, details: [] });
      return;
    }
    const handler = this.server.lookup(req.service, req.method);
    if (typeof handler !== 'function') {
      this.sendStatus(f.streamId, { code: Code.Unimplemented, message: handler, details: [] });
      return;
    }
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    let deadline: number | undefined;
    if (req.timeoutNano > 0n) {
      const ms = Number(req.timeoutNano / 1_000_000n);
      deadline = Date.now() + ms;
      timer = setTimeout(() => ac.abort(new RpcError(Code.DeadlineExceeded, 'context deadline exceeded')), ms);
      timer.unref();
    }
    this.inflight.set(f.streamId, ac);
    const j = this.server.journal;
    const journaled = j !== undefined && j.wants(req.service, req.method);
    if (journaled && journal) j.begin(this, f.streamId, f.payload);
    const ctx: CallContext = {
      service: req.service,
      method: req.method,
      metadata: toMetadata(req.metadata),
      signal: ac.signal,
      connection: this,
      ...(deadline !== undefined ? { deadline } : {}),
    };
    const id = f.streamId;
    Promise.resolve()
      .then(() => handler(req.payload, ctx))
      .then(
        (payload) => this.respond(id, { code: Code.OK, message: '', details: [] }, payload),
        (err: unknown) => this.sendStatus(id, toStatus(err)),
      )
      .finally(() => {
        // A call cut short by the connection closing stays journaled only if the
        // connection lives on elsewhere; the server's owner decides (end is called
        // only for answered calls).
        if (journaled && !this.closed) j!.end(this, id);
        if (timer) clearTimeout(timer);
        this.inflight.delete(id);
        this.server.emitIdle();
      });
  }

  private respond(streamId: number, status: Status, payload: Uint8Array): void {
    if (this.closed) return;
    let body = encodeResponse({ status, payload });
    if (body.length > MAX_MESSAGE_LENGTH) {
      body = encodeResponse({
        status: { code: Code.ResourceExhausted, message: `response of ${body.length} bytes exceeds maximum message size of ${MAX_MESSAGE_LENGTH}`, details: [] },
        payload: new Uint8Array(0),
      });
    }
    this.socket.write(encodeFrame(streamId, MessageType.Response, 0, body));
  }

  private sendStatus(streamId: number, status: Status): void {
    this.respond(streamId, status, new Uint8Array(0));
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    for (const ac of this.inflight.values()) ac.abort(new RpcError(Code.Canceled, 'connection closed'));
    this.server.forget(this);
  }
}

function toMetadata(kvs: KeyValue[]): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const { key, value } of kvs) {
    const k = key.toLowerCase();
    const list = m.get(k);
    if (list) list.push(value);
    else m.set(k, [value]);
  }
  return m;
}

export class TtrpcServer {
  private readonly services = new Map<string, Map<string, UnaryHandler>>();
  private readonly conns = new Set<TtrpcConnection>();
  private readonly listeners: net.Server[] = [];
  private readonly idle = new EventEmitter();
  private closing = false;

  constructor(private readonly opts: TtrpcServerOptions = {}) {}

  /** @internal */
  get journal(): RequestJournal | undefined {
    return this.opts.journal;
  }

  /** Registers the methods of one service (full name, e.g. "containerd.task.v2.Task"). */
  register(service: string, methods: Record<string, UnaryHandler>): void {
    if (this.services.has(service)) throw new Error(`ttrpc: duplicate service ${service} registered`);
    this.services.set(service, new Map(Object.entries(methods)));
  }

  /** Listens on a unix socket path. An existing file at the path is replaced. */
  async listen(path: string): Promise<net.Server> {
    if (existsSync(path)) unlinkSync(path);
    return this.startListener((s) => s.listen(path));
  }

  /** Listens on an already bound and listening socket descriptor (e.g. kept by a holder process). */
  async listenFd(fd: number): Promise<net.Server> {
    return this.startListener((s) => s.listen({ fd }));
  }

  /** Serves an already connected socket, e.g. `new net.Socket({ fd })`. */
  adopt(socket: net.Socket): TtrpcConnection {
    if (this.closing) {
      socket.destroy();
      throw new Error('ttrpc: server is closed');
    }
    const c = new TtrpcConnection(socket, this);
    this.conns.add(c);
    c.start();
    this.opts.onConnection?.(c);
    return c;
  }

  /** Live connections. */
  connections(): TtrpcConnection[] {
    return [...this.conns];
  }

  /** Stops listening, closes every connection and waits for running handlers to finish. */
  async close(): Promise<void> {
    this.closing = true;
    // net.Server.close() waits for accepted connections to end: close them in the same tick.
    const stopped = Promise.all(this.listeners.map((l) => new Promise<void>((res) => l.close(() => res()))));
    this.listeners.length = 0;
    for (const c of this.conns) c.close();
    await stopped;
    while ([...this.conns].some((c) => c.activeStreams > 0)) {
      await new Promise((res) => this.idle.once('idle', res));
    }
  }

  /** @internal "method ..." / "service ..." text when not found. */
  lookup(service: string, method: string): UnaryHandler | string {
    const svc = this.services.get(service);
    if (!svc) return `service ${service}`;
    return svc.get(method) ?? `method ${method}`;
  }

  /** @internal */
  forget(c: TtrpcConnection): void {
    if (!this.conns.delete(c)) return;
    this.opts.onConnectionClose?.(c);
    this.emitIdle();
  }

  /** @internal */
  reportError(err: Error, c?: TtrpcConnection): void {
    if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'EPIPE') return;
    this.opts.onError?.(err, c);
  }

  /** @internal */
  emitIdle(): void {
    this.idle.emit('idle');
  }

  private startListener(bind: (s: net.Server) => void): Promise<net.Server> {
    const s = net.createServer({ allowHalfOpen: false }, (sock) => {
      try {
        this.adopt(sock);
      } catch {
        /* closing */
      }
    });
    return new Promise((resolve, reject) => {
      s.once('error', reject);
      s.once('listening', () => {
        s.off('error', reject);
        s.on('error', (err) => this.reportError(err));
        this.listeners.push(s);
        resolve(s);
      });
      bind(s);
    });
  }
}
