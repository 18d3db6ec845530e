// The terminal relay of a process with a terminal: vnode-tty (native/) receives the
// pty master from the runtime over a console socket, copies it to and from
// containerd's FIFOs, and takes resize / close-stdin commands on a control FIFO. It
// runs detached, so terminals keep working while the manager is down.
import type { Logger } from '../../log/index.js';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { writeFifoLine } from '../../sys/index.js';
import { helperPath } from '../helpers.js';
import { StdioError } from '../stdio.js';
import type { ProcessRecord } from '../task-store.js';

/** Starts the relay for `p` (records its control FIFO in the process); resolves with the console socket. */
export async function startTtyRelay(ttyDir: string, p: ProcessRecord): Promise<{ socket: string }> {
  const id = randomBytes(6).toString('hex');
  const socket = join(ttyDir, `${id}.sock`);
  const control = join(ttyDir, `${id}.ctl`);
  const args = ['--socket', socket, '--control', control, '--stdout', p.stdout];
  if (p.stdin) args.push('--stdin', p.stdin);
  await new Promise<void>((res, rej) => {
    const child = spawn(helperPath('vnode-tty'), args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout!.once('data', () => res());
    child.on('error', (e) => rej(new StdioError(`cannot start vnode-tty: ${e.message}`)));
    child.on('exit', (code) => rej(new StdioError(`vnode-tty exited (${code}) before it was ready: ${err.trim()}`)));
    child.unref();
  });
  p.ttyControl = control;
  return { socket };
}

/** The relay ends when its control FIFO goes. */
export function stopTtyRelay(p: ProcessRecord): void {
  if (p.ttyControl) rmSync(p.ttyControl, { force: true });
}

/** Sends "resize W H" or "close-stdin" to the relay; a relay that is gone is not an error. */
export function ttyCommand(p: ProcessRecord, line: string, log: Logger): void {
  if (!p.ttyControl || !existsSync(p.ttyControl)) return;
  try {
    writeFifoLine(p.ttyControl, line);
  } catch (e) {
    log.warn({ err: e }, `terminal control ${p.ttyControl}: ${(e as Error).message}`);
  }
}
