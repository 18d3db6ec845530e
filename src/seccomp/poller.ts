// Waits for seccomp notifications on every listener at once through vnode-notify
// (native/vnode-notify.c), a small C child: a listener can only be waited on with
// poll(2), which would block the manager's event loop; the libuv threadpool is
// vnodefs' (a blocked pool thread there can stall it); and a worker thread would cost
// ~10 MiB. vnode-notify receives each notification (NOTIF_RECV) and sends its bytes
// here; answering is the supervisor's, on the main thread (NOTIF_SEND does not block).
// vnode-notify answers one kind itself: a mount(2) of a filesystem type the supervisor
// does not handle goes on to the kernel at once, since runc mounts several for every
// container it starts, while the main thread is busy starting it.
import { spawn, type ChildProcess } from 'node:child_process';
import type { Duplex } from 'node:stream';
import { NOTIF_SIZE } from './abi.js';

export type PollerEvent = { fd: number; notif: Uint8Array } | { fd: number; hangup: true };

const RECORD = 8 + NOTIF_SIZE;
/** Room for a listener id in an add record (vnode-hold's ids: sc-<16 hex>). */
const ID_LEN = 24;
const KIND_NOTIFICATION = 1;
const KIND_HANGUP = 2;
const OP_ADD = 1;

export class ListenerPoller {
  private readonly child: ChildProcess;
  private readonly channel: Duplex;
  private pending: Buffer = Buffer.alloc(0);
  private stopping = false;

  /**
   * `pendingDir`: where vnode-notify writes each notification before passing it on;
   * `onFailure`: vnode-notify is gone, nothing waits on the listeners any more.
   */
  constructor(helper: string, pendingDir: string, onEvent: (e: PollerEvent) => void, onFailure: (why: string) => void) {
    this.child = spawn(helper, [pendingDir], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    this.channel = this.child.stdio[3] as Duplex;
    this.channel.on('error', () => undefined);
    this.channel.on('data', (d: Buffer) => {
      this.pending = this.pending.length ? Buffer.concat([this.pending, d]) : d;
      while (this.pending.length >= RECORD) {
        const kind = this.pending.readInt32LE(0);
        const fd = this.pending.readInt32LE(4);
        if (kind === KIND_NOTIFICATION) onEvent({ fd, notif: new Uint8Array(this.pending.subarray(8, RECORD)) });
        else if (kind === KIND_HANGUP) onEvent({ fd, hangup: true });
        this.pending = this.pending.subarray(RECORD);
      }
    });
    this.child.on('error', (e) => onFailure(`cannot start ${helper}: ${e.message}`));
    this.child.on('exit', (code, signal) => {
      if (!this.stopping) onFailure(`${helper} exited (${signal ?? code})`);
    });
    // not unref'd: a caller may be waiting on an answer that only this child can bring
    // in; the manager ends with process.exit, and vnode-notify then gets EOF (or its
    // parent-death signal)
  }

  /** Watch listener `fd` (a descriptor of this process; vnode-notify takes a copy), journaled under `id`. */
  add(fd: number, id = ''): void {
    const rec = Buffer.alloc(8 + ID_LEN);
    rec.writeInt32LE(OP_ADD, 0);
    rec.writeInt32LE(fd, 4);
    rec.write(id.slice(0, ID_LEN), 8, 'latin1');
    this.channel.write(rec);
  }

  async close(): Promise<void> {
    this.stopping = true;
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
    this.channel.end();
    this.child.kill('SIGTERM');
    await exited;
  }
}
