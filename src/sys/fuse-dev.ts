// Linux calls vnodefs needs that Node.js lacks: attaching a /dev/fuse descriptor to an
// existing connection (FUSE_DEV_IOC_CLONE) and taking a descriptor from another process
// (pidfd_open + pidfd_getfd). Declared here, loaded through the shared libc loader.
import { SyscallError, errno, libc } from './libc.js';

const SYS_PIDFD_OPEN = 434;
const SYS_PIDFD_GETFD = 438;

type Fn = (...args: unknown[]) => number;
let ioctlFn: Fn | undefined;
let syscallFn: Fn | undefined;

function ioctl(): Fn {
  ioctlFn ??= libc().func('int ioctl(int fd, unsigned long request, ...)') as Fn;
  return ioctlFn;
}

function syscall(): Fn {
  syscallFn ??= libc().func('long syscall(long number, ...)') as Fn;
  return syscallFn;
}

/** ioctl(fd, request, &value) with a uint32 argument passed by pointer. */
export function ioctlU32Ptr(fd: number, request: number, value: number): void {
  const rc = ioctl()(fd, request, 'uint32_t *', [value]);
  if (rc < 0) throw new SyscallError('ioctl', errno(), `fd ${fd} request 0x${request.toString(16)}`);
}

export function pidfdOpen(pid: number): number {
  const fd = Number(syscall()(SYS_PIDFD_OPEN, 'int', pid, 'unsigned int', 0));
  if (fd < 0) throw new SyscallError('pidfd_open', errno(), `pid ${pid}`);
  return fd;
}

/** A copy (same open file description) of descriptor `targetFd` of the process behind `pidfd`. */
export function pidfdGetfd(pidfd: number, targetFd: number): number {
  const fd = Number(syscall()(SYS_PIDFD_GETFD, 'int', pidfd, 'int', targetFd, 'unsigned int', 0));
  if (fd < 0) throw new SyscallError('pidfd_getfd', errno(), `fd ${targetFd}`);
  return fd;
}

let readFn: Fn | undefined;

/**
 * read(2) that reports failure as a negative errno instead of throwing: the server
 * polls a non-blocking /dev/fuse clone and expects EAGAIN most of the time.
 */
export function readNoThrow(fd: number, buf: Buffer, length: number): number {
  readFn ??= libc().func('long read(int fd, void *buf, size_t count)') as Fn;
  const n = Number(readFn(fd, buf, length));
  return n < 0 ? -errno() : n;
}
