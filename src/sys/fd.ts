// File-descriptor calls Node.js lacks: pipe2 and clearing O_NONBLOCK.
import { closeSync, constants, openSync, writeSync } from 'node:fs';
import { errno, libc, SyscallError } from './libc.js';

const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;

let fns: { fcntl: (fd: number, cmd: number, arg: number) => number; pipe2: (fds: Int32Array, flags: number) => number } | undefined;
function f() {
  fns ??= {
    // fcntl is variadic; on the supported ABIs an int third argument passes the same way.
    fcntl: libc().func('int fcntl(int fd, int cmd, long arg)') as never,
    pipe2: libc().func('int pipe2(_Out_ int *fds, int flags)') as never,
  };
  return fns;
}

export function setBlocking(fd: number): void {
  const flags = f().fcntl(fd, F_GETFL, 0);
  if (flags < 0) throw new SyscallError('fcntl', errno(), `F_GETFL fd ${fd}`);
  if (f().fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) throw new SyscallError('fcntl', errno(), `F_SETFL fd ${fd}`);
}

/** A pipe: [read end, write end]. */
export function pipe(flags = O_CLOEXEC): [number, number] {
  const fds = new Int32Array(2);
  if (f().pipe2(fds, flags) !== 0) throw new SyscallError('pipe2', errno());
  return [fds[0]!, fds[1]!];
}


/**
 * Writes one line to a control FIFO whose reader keeps it open. Non-blocking open:
 * if the reader is gone this fails with ENXIO instead of hanging the caller.
 */
export function writeFifoLine(path: string, line: string): void {
  const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  try {
    writeSync(fd, `${line}\n`);
  } finally {
    closeSync(fd);
  }
}
