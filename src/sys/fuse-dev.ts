// Linux calls vnodefs needs that Node.js lacks: attaching a /dev/fuse descriptor to an
// existing connection (FUSE_DEV_IOC_CLONE) and reads that report errno. (Taking a
// descriptor from another process is src/sys/pidfd.ts.) Loaded through the shared libc loader.
import { SyscallError, errno, libc } from './libc.js';

type Fn = (...args: unknown[]) => number;
let ioctlFn: Fn | undefined;

function ioctl(): Fn {
  ioctlFn ??= libc().func('int ioctl(int fd, unsigned long request, ...)') as Fn;
  return ioctlFn;
}

/** ioctl(fd, request, &value) with a uint32 argument passed by pointer. */
export function ioctlU32Ptr(fd: number, request: number, value: number): void {
  const rc = ioctl()(fd, request, 'uint32_t *', [value]);
  if (rc < 0) throw new SyscallError('ioctl', errno(), `fd ${fd} request 0x${request.toString(16)}`);
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
