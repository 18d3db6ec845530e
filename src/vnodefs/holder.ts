// Keeps a FUSE connection alive across a crash of the manager. A tiny process that
// is not Node.js (`sleep infinity`, renamed through argv[0] so it can be found again)
// inherits a copy of the /dev/fuse descriptor as its fd 3. The connection lives as
// long as any descriptor of it is open, so when the manager dies the kernel queues
// new requests instead of failing them; a new manager takes the descriptor back with
// pidfd_open + pidfd_getfd and serves the queue.
import { spawn } from 'node:child_process';
import { closeSync, readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { pidfdGetfd, pidfdOpen } from '../sys/index.js';

export const HOLDER_FD = 3;
const PREFIX = 'vnodefs-holder:';

/** The argv[0] a holder for `mountpoint` runs under. */
export function holderName(mountpoint: string): string {
  return `${PREFIX}${mountpoint}`;
}

/** Starts a holder of `fd` in its own session, so signals to the manager's group miss it. */
export function startHolder(fd: number, mountpoint: string): number {
  const child = spawn('sleep', ['infinity'], {
    argv0: holderName(mountpoint),
    detached: true,
    stdio: ['ignore', 'ignore', 'ignore', fd],
  });
  if (child.pid === undefined) throw new Error('vnodefs: cannot start the descriptor holder (sleep)');
  child.unref();
  return child.pid;
}

/** Whether `pid` is a holder for `mountpoint` that still has a /dev/fuse descriptor. */
export function isHolder(pid: number, mountpoint: string): boolean {
  try {
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0];
    return argv0 === holderName(mountpoint) && readlinkSync(`/proc/${pid}/fd/${HOLDER_FD}`) === '/dev/fuse';
  } catch {
    return false;
  }
}

/** Holders of `mountpoint` found by scanning /proc (oldest pid first). */
export function findHolders(mountpoint: string): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (Number.isInteger(pid) && pid > 0 && isHolder(pid, mountpoint)) out.push(pid);
  }
  return out.sort((a, b) => a - b);
}

/** Takes a copy of the holder's descriptor (same open file, so same FUSE connection). */
export function reclaimFromHolder(pid: number): number {
  const pidfd = pidfdOpen(pid);
  try {
    return pidfdGetfd(pidfd, HOLDER_FD);
  } finally {
    closeSync(pidfd);
  }
}

export function stopHolder(pid: number, mountpoint: string): void {
  if (!isHolder(pid, mountpoint)) return;
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    /* already gone */
  }
}
