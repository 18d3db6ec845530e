// Waits for seccomp notifications on every listener at once, in a worker thread: a
// listener can only be waited on with poll(2), which would block the manager's event
// loop, and the libuv threadpool is vnodefs' (a blocked pool thread there can stall it).
// The worker receives each notification (NOTIF_RECV) and posts its bytes; answering
// is the supervisor's, on the main thread (NOTIF_SEND does not block). One answer is
// the worker's own: a mount(2) of a filesystem type the supervisor does not handle goes
// on to the kernel at once, since runc mounts several of those (tmpfs, devpts, mqueue,
// cgroup) for every container it starts, while the main thread is busy starting it.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { libc } from '../sys/libc.js';
import { MOUNT_NR, NOTIF_SIZE, SECCOMP_IOCTL_NOTIF_ID_VALID, SECCOMP_IOCTL_NOTIF_RECV, SECCOMP_IOCTL_NOTIF_SEND, SECCOMP_USER_NOTIF_FLAG_CONTINUE, SUPERVISED_FS_TYPES } from './abi.js';

type Command = { add: number } | { remove: number } | { stop: true };
export type PollerEvent = { fd: number; notif: Uint8Array } | { fd: number; hangup: true };

interface WorkerData {
  koffiPath: string;
  wakeFd: number;
  recv: number;
  notifSize: number;
  /** mount's number per audit arch, the types the supervisor handles, and the ioctls to let a call go on. */
  mountNr: Record<number, number>;
  supervisedFsTypes: string[];
  idValid: number;
  send: number;
  continueFlag: number;
}

/**
 * The worker's loop. It runs as an eval'd script, so it is self-contained: no imports,
 * koffi by path, `require` passed in (a bundler would rename a free `require`).
 * Commands arrive as messages, read synchronously after the wake eventfd fires,
 * because the worker never returns to its event loop.
 */
function pollLoop(req: NodeRequire): void {
  const { parentPort, workerData, receiveMessageOnPort } = req('node:worker_threads') as typeof import('node:worker_threads');
  const d = workerData as WorkerData;
  const koffi = req(d.koffiPath) as typeof import('koffi');
  const lib = koffi.load('libc.so.6');
  const poll = lib.func('int poll(_Inout_ uint8_t *fds, unsigned long n, int timeout)') as (b: Uint8Array, n: number, t: number) => number;
  const ioctl = lib.func('int ioctl(int fd, unsigned long req, _Inout_ uint8_t *buf)') as (fd: number, req: number, b: Uint8Array) => number;
  const read = lib.func('long read(int fd, _Out_ uint8_t *buf, unsigned long n)') as (fd: number, b: Uint8Array, n: number) => number;
  const pread = lib.func('long pread(int fd, _Out_ uint8_t *buf, unsigned long n, int64_t off)') as (fd: number, b: Uint8Array, n: number, off: bigint) => number;
  const fs = req('node:fs') as typeof import('node:fs');
  /** A mount the supervisor has nothing to do with: answered here with "continue". */
  const passedOn = (fd: number, n: Uint8Array): boolean => {
    const v = new DataView(n.buffer);
    if (d.mountNr[v.getUint32(20, true)] !== v.getInt32(16, true)) return false;
    const typeAddr = v.getBigUint64(32 + 8 * 2, true);
    let type = '';
    if (typeAddr !== 0n) {
      let mem: number;
      try {
        mem = fs.openSync(`/proc/${v.getUint32(8, true)}/mem`, 'r');
      } catch {
        return true; // the caller is gone
      }
      const b = new Uint8Array(16);
      const got = pread(mem, b, 16, typeAddr);
      fs.closeSync(mem);
      const end = b.indexOf(0);
      type = got > 0 ? Buffer.from(b.subarray(0, end < 0 ? got : end)).toString() : '';
    }
    if (d.supervisedFsTypes.includes(type)) return false;
    const id = n.subarray(0, 8);
    if (ioctl(fd, d.idValid, Uint8Array.from(id)) !== 0) return true;
    const resp = new Uint8Array(24);
    resp.set(id, 0);
    new DataView(resp.buffer).setUint32(20, d.continueFlag, true);
    ioctl(fd, d.send, resp);
    return true;
  };
  const POLLIN = 1;
  const POLLERR = 8;
  const POLLHUP = 16;
  const POLLNVAL = 32;
  const listeners = new Set<number>();
  const scratch = new Uint8Array(8);
  for (;;) {
    const fds = [d.wakeFd, ...listeners];
    const pfd = new Uint8Array(8 * fds.length);
    const view = new DataView(pfd.buffer);
    fds.forEach((fd, i) => {
      view.setInt32(8 * i, fd, true);
      view.setInt16(8 * i + 4, POLLIN, true);
    });
    if (poll(pfd, fds.length, -1) < 0) continue; // EINTR
    for (let i = 1; i < fds.length; i++) {
      const fd = fds[i]!;
      const rev = view.getInt16(8 * i + 6, true);
      if (rev & POLLIN) {
        const buf = new Uint8Array(d.notifSize);
        // ENOENT: the caller went away between poll and receive
        if (ioctl(fd, d.recv, buf) === 0 && !passedOn(fd, buf)) parentPort!.postMessage({ fd, notif: buf });
      } else if (rev & (POLLHUP | POLLERR | POLLNVAL)) {
        // no task uses the filter any more (or the fd was closed under us)
        listeners.delete(fd);
        parentPort!.postMessage({ fd, hangup: true });
      }
    }
    if (view.getInt16(6, true) & POLLIN) {
      read(d.wakeFd, scratch, 8);
      for (let m = receiveMessageOnPort(parentPort as never); m; m = receiveMessageOnPort(parentPort as never)) {
        const c = m.message as Command;
        if ('add' in c) listeners.add(c.add);
        else if ('remove' in c) listeners.delete(c.remove);
        else return;
      }
    }
  }
}

export class ListenerPoller {
  private readonly worker: Worker;
  private readonly wakeFd: number;
  private readonly write: (fd: number, b: Uint8Array, n: number) => number;

  /** `onFailure`: the worker is gone (it threw or exited); nothing waits on the listeners any more. */
  constructor(onEvent: (e: PollerEvent) => void, onFailure: (why: string) => void) {
    const eventfd = libc().func('int eventfd(unsigned int initval, int flags)') as (v: number, f: number) => number;
    this.write = libc().func('long write(int fd, const uint8_t *buf, unsigned long n)') as never;
    const EFD_CLOEXEC = 0o2000000;
    this.wakeFd = eventfd(0, EFD_CLOEXEC);
    const data: WorkerData = {
      koffiPath: createRequire(import.meta.url).resolve('koffi'),
      wakeFd: this.wakeFd,
      recv: SECCOMP_IOCTL_NOTIF_RECV,
      notifSize: NOTIF_SIZE,
      mountNr: MOUNT_NR,
      supervisedFsTypes: [...SUPERVISED_FS_TYPES],
      idValid: SECCOMP_IOCTL_NOTIF_ID_VALID,
      send: SECCOMP_IOCTL_NOTIF_SEND,
      continueFlag: SECCOMP_USER_NOTIF_FLAG_CONTINUE,
    };
    // tsx (tests) compiles with keepNames, which wraps named functions in __name(): the
    // eval'd source has no bundle around it to define that helper, so it gets its own
    this.worker = new Worker(`const __name = (f) => f;\n(${pollLoop.toString()})(require)`, { eval: true, workerData: data });
    this.worker.on('message', (e: PollerEvent) => onEvent(e));
    this.worker.on('error', (err) => onFailure(err.message));
    this.worker.on('exit', (code) => {
      if (!this.stopping) onFailure(`exited with code ${code}`);
    });
    // the manager may exit while the worker waits in poll(2): process.exit joins worker
    // threads, and a thread blocked in poll would never be joined; wake it to return
    this.worker.unref();
    process.once('exit', this.onExit);
  }

  add(fd: number): void {
    this.send({ add: fd });
  }

  remove(fd: number): void {
    this.send({ remove: fd });
  }

  private stopping = false;

  private readonly onExit = (): void => {
    this.stopping = true;
    this.send({ stop: true });
  };

  async close(): Promise<void> {
    process.off('exit', this.onExit);
    this.stopping = true;
    this.send({ stop: true });
    await this.worker.terminate();
  }

  private send(c: Command): void {
    this.worker.postMessage(c);
    const one = new Uint8Array(8);
    one[0] = 1;
    this.write(this.wakeFd, one, 8);
  }
}
