// The container's stdio. stdout/stderr FIFOs from containerd are handed straight to
// the container process, so output keeps flowing while the manager is down. stdin
// goes through a pipe the manager feeds, because only the manager can close it on
// CloseIO (a FIFO only reports EOF when every writer is gone).
import { closeSync, constants, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { pipe, setBlocking } from '../sys/fd.js';

export class StdioError extends Error {
  override name = 'StdioError';
}

export interface ProcessStdio {
  /** fds for the runtime's stdio (0, 1, 2); 'ignore' means /dev/null. */
  fds: [number | 'ignore', number | 'ignore', number | 'ignore'];
  /** Close the manager's copies of the fds the child got. */
  closeChildEnds(): void;
  /** Ends the container's stdin (CloseIO). */
  closeStdin(): void;
}

function openWriter(path: string, what: string): number {
  try {
    const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
    setBlocking(fd);
    return fd;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENXIO') throw new StdioError(`${what} FIFO ${path} has no reader: containerd must open it before the task is created`);
    throw new StdioError(`cannot open ${what} FIFO ${path}: ${(e as Error).message}`);
  }
}

export function openStdio(paths: { stdin: string; stdout: string; stderr: string }): ProcessStdio {
  const opened: number[] = [];
  const childEnds: number[] = [];
  let stdinFeed: { fifo: Socket; pipe: Socket } | undefined;
  try {
    let fd0: number | 'ignore' = 'ignore';
    if (paths.stdin) {
      // O_RDWR: opening never blocks and the FIFO never reads as EOF before
      // containerd's writer connects; EOF for the container comes from CloseIO.
      const fifo = openSync(paths.stdin, constants.O_RDWR | constants.O_NONBLOCK);
      opened.push(fifo);
      const [r, w] = pipe();
      opened.push(r, w);
      childEnds.push(r);
      fd0 = r;
      const fifoSock = new Socket({ fd: fifo, readable: true, writable: false });
      const pipeSock = new Socket({ fd: w, readable: false, writable: true });
      fifoSock.on('error', () => pipeSock.destroy());
      pipeSock.on('error', () => fifoSock.destroy());
      fifoSock.pipe(pipeSock);
      stdinFeed = { fifo: fifoSock, pipe: pipeSock };
    }
    const fd1 = paths.stdout ? openWriter(paths.stdout, 'stdout') : 'ignore';
    if (fd1 !== 'ignore') {
      opened.push(fd1);
      childEnds.push(fd1);
    }
    let fd2: number | 'ignore' = 'ignore';
    if (paths.stderr && paths.stderr === paths.stdout) fd2 = fd1;
    else if (paths.stderr) {
      fd2 = openWriter(paths.stderr, 'stderr');
      opened.push(fd2);
      childEnds.push(fd2);
    }
    return {
      fds: [fd0, fd1, fd2],
      closeChildEnds() {
        for (const fd of childEnds) {
          try {
            closeSync(fd);
          } catch {
            /* already closed */
          }
        }
        childEnds.length = 0;
      },
      closeStdin() {
        if (!stdinFeed) return;
        stdinFeed.fifo.unpipe();
        stdinFeed.fifo.destroy();
        stdinFeed.pipe.end();
        stdinFeed = undefined;
      },
    };
  } catch (e) {
    stdinFeed?.fifo.destroy();
    stdinFeed?.pipe.destroy();
    for (const fd of opened) {
      try {
        closeSync(fd);
      } catch {
        /* ignore */
      }
    }
    throw e;
  }
}
