// The server loop of one FUSE connection.
//
// Requests are never read from the connection's first descriptor (the one the holder
// keeps): the server reads from clones of it (FUSE_DEV_IOC_CLONE). A clone has its
// own queue of requests being processed, and the kernel fails that queue (ECONNABORTED)
// when the clone closes. So if the manager dies mid-request the reader gets one error
// instead of hanging forever, and queued requests wait for the next server.
//
// Reading: `waiters` blocking reads stay outstanding in libuv's threadpool (each holds
// one pool thread while the connection is idle). When one completes, the main thread
// answers it and drains whatever else is queued through a non-blocking clone with
// synchronous reads, up to `batch` requests, before arming the read again. Under load
// the pool is touched once per batch, not once per request.
import { closeSync, read, writeSync } from 'node:fs';
import { constants } from 'node:os';
import { readNoThrow } from '../sys/index.js';
import { cloneFuseDevice } from './device.js';
import type { Handler } from './handler.js';
import { READ_BUFFER_SIZE } from './protocol.js';

const E = constants.errno;
const DEFAULT_SPIN_US = 50;

export interface SessionOptions {
  /** Blocking reads kept outstanding in the threadpool (default 1). */
  waiters?: number;
  /** Requests answered per wake-up before yielding to the event loop (default 64). */
  batch?: number;
  /**
   * After the queue runs dry, keep polling the non-blocking clone this long (µs)
   * before going back to the threadpool: a reader's next request (read after open,
   * release after read) usually follows within microseconds, and a threadpool
   * round trip per request doubled single-reader latency (docs/vnodefs.md). Default 50.
   */
  spinUs?: number;
}

export interface SessionStats {
  wakeups: number;
  drained: number;
  replyErrors: number;
}

export class Session {
  private readonly blocking: number[] = [];
  private readonly nonblocking: number;
  private readonly buffers: Buffer[] = [];
  private readonly drainBuf = Buffer.allocUnsafe(READ_BUFFER_SIZE);
  private closed = false;
  private pending = 0;
  private onIdle: (() => void) | undefined;
  readonly stats: SessionStats = { wakeups: 0, drained: 0, replyErrors: 0 };
  /** Resolves when the connection ends (unmounted or aborted) or close() is called. */
  readonly done: Promise<void>;
  private resolveDone!: () => void;

  constructor(
    readonly masterFd: number,
    private readonly handler: Handler,
    private readonly opts: SessionOptions = {},
  ) {
    this.done = new Promise((r) => (this.resolveDone = r));
    const waiters = Math.max(1, opts.waiters ?? 1);
    this.nonblocking = cloneFuseDevice(masterFd, true);
    for (let i = 0; i < waiters; i++) {
      this.blocking.push(cloneFuseDevice(masterFd, false));
      this.buffers.push(Buffer.allocUnsafe(READ_BUFFER_SIZE));
    }
  }

  start(): void {
    // Requests may already be queued (a restart): answer them first.
    this.drain();
    for (let i = 0; i < this.blocking.length; i++) this.arm(i);
  }

  private arm(i: number): void {
    if (this.closed) return;
    const fd = this.blocking[i]!;
    const buf = this.buffers[i]!;
    this.pending++;
    read(fd, buf, 0, buf.length, null, (err, n) => {
      this.pending--;
      if (this.closed) {
        // Still answer what was read: closing the clone would fail it (ECONNABORTED).
        if (!err) this.answer(fd, buf, n);
        return this.settle();
      }
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        // ENOENT: the request was aborted while being copied; EINTR/EAGAIN: retry.
        if (code === 'ENOENT' || code === 'EINTR' || code === 'EAGAIN') return this.arm(i);
        // ENODEV: unmounted or aborted. Anything else is fatal for this connection too.
        return this.finish();
      }
      this.stats.wakeups++;
      this.answer(fd, buf, n);
      const more = this.drain();
      if (more) setImmediate(() => this.rearmAfterYield(i));
      else this.arm(i);
    });
  }

  private rearmAfterYield(i: number): void {
    if (this.closed) return this.settle();
    this.drain();
    this.arm(i);
  }

  /** Answers queued requests through the non-blocking clone. True if the batch filled up. */
  private drain(): boolean {
    const limit = this.opts.batch ?? 64;
    const spinNs = BigInt(Math.round((this.opts.spinUs ?? DEFAULT_SPIN_US) * 1000));
    let idleSince = 0n;
    for (let k = 0; k < limit; ) {
      const n = readNoThrow(this.nonblocking, this.drainBuf, this.drainBuf.length);
      if (n < 0) {
        if (n === -E.EAGAIN && spinNs > 0n && !this.closed) {
          const now = process.hrtime.bigint();
          if (idleSince === 0n) idleSince = now;
          if (now - idleSince < spinNs) continue;
        }
        if (n === -E.EAGAIN || n === -E.ENOENT || n === -E.EINTR) return false;
        this.finish();
        return false;
      }
      k++;
      idleSince = 0n;
      this.stats.drained++;
      this.answer(this.nonblocking, this.drainBuf, n);
    }
    return true;
  }

  private answer(fd: number, buf: Buffer, n: number): void {
    const reply = this.handler.handle(buf, n);
    if (!reply) return;
    try {
      writeSync(fd, reply);
    } catch {
      // ENOENT: the requester was interrupted and is gone; nothing else to do.
      this.stats.replyErrors++;
    }
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.settle();
  }

  /** Closes our descriptors once no read is in flight on them. */
  private settle(): void {
    if (this.pending > 0) return;
    for (const fd of [...this.blocking, this.nonblocking]) {
      try {
        closeSync(fd);
      } catch {
        /* already closed */
      }
    }
    this.blocking.length = 0;
    this.onIdle?.();
    this.resolveDone();
  }

  /**
   * Stops serving. Blocking reads in the threadpool cannot be cancelled; they end
   * when the connection ends (unmount) or when one more request arrives.
   */
  close(wake?: () => void): Promise<void> {
    this.closed = true;
    this.settle();
    // Each blocked read needs one request to return: `wake` makes the kernel send one.
    for (let i = 0; i < this.pending; i++) wake?.();
    return this.done;
  }

  /** Blocking reads still outstanding in the threadpool. */
  get outstanding(): number {
    return this.pending;
  }
}
