// The container's stdio. stdout/stderr FIFOs from containerd are handed straight to
// the container process, so output keeps flowing while the manager is down. stdin
// goes through a pipe the manager feeds, because only the manager can close it on
// CloseIO (a FIFO only reports EOF when every writer is gone).
//
// Ownership: containerd makes its FIFOs prwx------ for host root, and a pipe belongs to
// whoever made it (the manager, host root). Host root is unmapped in a vNode, so the
// container could write to its fds but not reopen them by name: /dev/stdout,
// /proc/self/fd/1 (what images that log through /var/log/x -> /dev/stdout do) gave
// EACCES. Every fd handed to the container is given to the vNode's root (its first
// host UID and GID), as runc >= 1.2 does for a user-namespaced container; runc then
// hands it on to the process's own user (its fixStdioPermissions, every runc
// version), now that the owner is mapped. The mode stays 0700/0600, so other vNodes
// and the host's other users still cannot open them; containerd keeps its open
// read ends (ownership is checked at open) and, as host root, may reopen them.
import { closeSync, constants, fchownSync, openSync } from 'node:fs';
import { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { pipe, setBlocking } from '../sys/index.js';

/** How long Start waits for containerd to open the read end of an output FIFO. */
const READER_WAIT_MS = 10_000;

export class StdioError extends Error {
  override name = 'StdioError';
  readonly code = 'VNODE_STDIO_FAILED';
}

export interface ProcessStdio {
  /** fds for the runtime's stdio (0, 1, 2); 'ignore' means /dev/null. */
  fds: [number | 'ignore', number | 'ignore', number | 'ignore'];
  /** Close the manager's copies of the fds the child got. */
  closeChildEnds(): void;
  /** Ends the container's stdin (CloseIO). */
  closeStdin(): void;
}

// containerd opens its read ends asynchronously (its fifo package opens in a
// goroutine), so the reader may arrive a little after Start/Exec reaches us; runc's
// shim blocks in open(2) for it. We poll instead, so the event loop is never blocked,
// and give up with a clear error rather than waiting forever.
async function openWriter(path: string, what: string, waitMs = READER_WAIT_MS): Promise<number> {
  const deadline = Date.now() + waitMs;
  for (let delay = 1; ; delay = Math.min(delay * 2, 50)) {
    try {
      const fd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
      setBlocking(fd);
      return fd;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENXIO') throw new StdioError(`cannot open ${what} FIFO ${path}: ${(e as Error).message}`);
      if (Date.now() >= deadline) throw new StdioError(`${what} FIFO ${path} has no reader after ${waitMs} ms: containerd did not open its end`);
    }
    await sleep(delay);
  }
}

/** Host UID/GID that the fds handed to the container are given to (the vNode's root). */
export interface StdioOwner {
  uid: number;
  gid: number;
}

function giveTo(fd: number, owner: StdioOwner | undefined, what: string): void {
  if (!owner) return;
  try {
    fchownSync(fd, owner.uid, owner.gid);
  } catch (e) {
    throw new StdioError(`cannot give the container's ${what} to host uid ${owner.uid}: ${(e as Error).message}`);
  }
}

export async function openStdio(paths: { stdin: string; stdout: string; stderr: string }, readerWaitMs = READER_WAIT_MS, owner?: StdioOwner): Promise<ProcessStdio> {
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
      giveTo(r, owner, 'stdin pipe');
      fd0 = r;
      const fifoSock = new Socket({ fd: fifo, readable: true, writable: false });
      const pipeSock = new Socket({ fd: w, readable: false, writable: true });
      fifoSock.on('error', () => pipeSock.destroy());
      pipeSock.on('error', () => fifoSock.destroy());
      fifoSock.pipe(pipeSock);
      stdinFeed = { fifo: fifoSock, pipe: pipeSock };
    }
    const fd1 = paths.stdout ? await openWriter(paths.stdout, 'stdout', readerWaitMs) : 'ignore';
    if (fd1 !== 'ignore') {
      opened.push(fd1);
      childEnds.push(fd1);
      giveTo(fd1, owner, 'stdout FIFO');
    }
    let fd2: number | 'ignore' = 'ignore';
    if (paths.stderr && paths.stderr === paths.stdout) fd2 = fd1;
    else if (paths.stderr) {
      fd2 = await openWriter(paths.stderr, 'stderr', readerWaitMs);
      opened.push(fd2);
      childEnds.push(fd2);
      giveTo(fd2, owner, 'stderr FIFO');
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
