// pidfd_open + pidfd_getfd: taking a copy of another process's descriptor.
import { errno, libc, SyscallError } from './libc.js';

const SYS_pidfd_open = 434;
const SYS_pidfd_getfd = 438;

let fns: { open: (nr: number, pid: number, flags: number) => number; getfd: (nr: number, pidfd: number, fd: number, flags: number) => number } | undefined;
function f() {
  fns ??= {
    open: libc().func('long syscall(long nr, int pid, unsigned int flags)') as never,
    getfd: libc().func('long syscall(long nr, int pidfd, int fd, unsigned int flags)') as never,
  };
  return fns;
}

export function pidfdOpen(pid: number): number {
  const fd = Number(f().open(SYS_pidfd_open, pid, 0));
  if (fd < 0) throw new SyscallError('pidfd_open', errno(), `pid ${pid}`);
  return fd;
}

/** A copy (same open file description) of descriptor `targetFd` of the process behind `pidfd`. */
export function pidfdGetfd(pidfd: number, targetFd: number): number {
  const fd = Number(f().getfd(SYS_pidfd_getfd, pidfd, targetFd, 0));
  if (fd < 0) throw new SyscallError('pidfd_getfd', errno(), `fd ${targetFd}`);
  return fd;
}
