// Running a few synchronous steps with the calling thread in another network namespace
// (setns), and netlink sockets: what in-process rtnetlink needs. A socket stays bound
// to the namespace it was created in, so a caller enters a namespace only to create
// its socket (and to open /proc/sys/net files, which are resolved the same way) and
// leaves it before doing anything else. Node's main thread is never left elsewhere:
// the way back is taken in `finally`, and a way back that fails ends the process.
import { closeSync, openSync } from 'node:fs';
import { errno, libc, SyscallError } from './libc.js';

const CLONE_NEWNET = 0x40000000;
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVTIMEO = 20;
const SOL_NETLINK = 270;
const NETLINK_EXT_ACK = 11;

type Fns = {
  setns: (fd: number, type: number) => number;
  socket: (domain: number, type: number, proto: number) => number;
  setsockopt: (fd: number, level: number, name: number, value: Buffer, len: number) => number;
  send: ((fd: number, buf: Buffer, len: number, flags: number) => number | bigint) & {
    async: (fd: number, buf: Buffer, len: number, flags: number, cb: (err: unknown, n: number | bigint) => void) => void;
  };
  recv: (fd: number, buf: Buffer, len: number, flags: number) => number | bigint;
};
let fns: Fns | undefined;
function f(): Fns {
  fns ??= {
    setns: libc().func('int setns(int fd, int nstype)') as never,
    socket: libc().func('int socket(int domain, int type, int protocol)') as never,
    setsockopt: libc().func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)') as never,
    send: libc().func('long send(int fd, const void *buf, size_t len, int flags)') as never,
    recv: libc().func('long recv(int fd, void *buf, size_t len, int flags)') as never,
  };
  return fns;
}

/**
 * Runs `fn` with this thread in the network namespace at `path` (/proc/<pid>/ns/net or
 * a bind mount of one) and returns its result. `fn` must be synchronous: nothing else
 * of this thread may run while it is elsewhere.
 */
export function inNetns<T>(path: string, fn: () => T): T {
  const home = openSync('/proc/thread-self/ns/net', 'r');
  let target: number | undefined;
  try {
    target = openSync(path, 'r');
    if (f().setns(target, CLONE_NEWNET) !== 0) throw new SyscallError('setns', errno(), path);
    try {
      const out = fn();
      if (out instanceof Promise) throw new Error('inNetns: the function must be synchronous');
      return out;
    } finally {
      goHome(home);
    }
  } finally {
    if (target !== undefined) closeSync(target);
    closeSync(home);
  }
}

function goHome(home: number): void {
  if (f().setns(home, CLONE_NEWNET) === 0) return;
  const first = errno();
  if (f().setns(home, CLONE_NEWNET) === 0) return;
  // Every later socket, CNI call and /proc/sys access of this thread would hit another
  // namespace: stopping is the only safe answer (the manager is restarted by its shim).
  process.stderr.write(`vnode: cannot return to the original network namespace (errno ${first}, then ${errno()}); aborting\n`);
  process.abort();
}

/** A NETLINK_ROUTE socket of the calling thread's namespace, with extended acks and a receive timeout. */
export function netlinkRouteSocket(recvTimeoutMs = 5000): number {
  const fd = f().socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
  if (fd < 0) throw new SyscallError('socket', errno(), 'AF_NETLINK');
  try {
    const one = Buffer.alloc(4);
    one.writeInt32LE(1);
    // extended acks carry the kernel's own explanation of a refusal; older kernels lack them
    f().setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, one, 4);
    const tv = Buffer.alloc(16);
    tv.writeBigInt64LE(BigInt(Math.floor(recvTimeoutMs / 1000)), 0);
    tv.writeBigInt64LE(BigInt((recvTimeoutMs % 1000) * 1000), 8);
    if (f().setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16) !== 0) throw new SyscallError('setsockopt', errno(), 'SO_RCVTIMEO');
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  return fd;
}

/** A NETLINK_ROUTE socket bound to the namespace at `path`. */
export function netlinkRouteSocketIn(path: string): number {
  return inNetns(path, () => netlinkRouteSocket());
}

/** send(2) of one whole datagram to the kernel. */
export function sendDatagram(fd: number, buf: Buffer): void {
  const n = Number(f().send(fd, buf, buf.length, 0));
  if (n < 0) throw new SyscallError('send', errno(), `netlink fd ${fd}`);
  if (n !== buf.length) throw new Error(`send: netlink fd ${fd} took ${n} of ${buf.length} bytes`);
}

/**
 * send(2) of one datagram on a libuv worker thread: for requests the kernel takes long
 * to carry out inside send (moving a link waits for RCU grace periods), so that the
 * event loop is not held meanwhile. The socket is bound to its namespace whatever
 * thread sends; the kernel's answer is read with recvDatagram as usual.
 */
export function sendDatagramAsync(fd: number, buf: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    f().send.async(fd, buf, buf.length, 0, (err, n) => {
      // errno is the worker thread's and not readable here; the kernel's own refusals come in the answer
      if (err) reject(err instanceof Error ? err : new Error(String(err)));
      else if (Number(n) !== buf.length) reject(new Error(`send: netlink fd ${fd} failed (${Number(n)} of ${buf.length} bytes)`));
      else resolve();
    });
  });
}

/** recv(2) of one datagram into `buf`; the number of bytes. */
export function recvDatagram(fd: number, buf: Buffer): number {
  const n = Number(f().recv(fd, buf, buf.length, 0));
  if (n < 0) throw new SyscallError('recv', errno(), `netlink fd ${fd}`);
  return n;
}
