// Starting a process through the OCI runtime (create for a container's init, exec
// --detach for an exec): its stdio (containerd's FIFOs, or a terminal relay), the
// seccomp listener the runtime hands over, and its PIDs from the runtime's pid file.
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { RuntimeError } from '../oci-runtime.js';
import { openStdio, type ProcessStdio } from '../stdio.js';
import type { ProcessRecord, TaskRecord } from '../task-store.js';
import type { Vnode } from '../vnode.js';
import type { TaskDeps } from './deps.js';
import { supervise } from './seccomp.js';
import { startTtyRelay, stopTtyRelay } from './tty-relay.js';

/** The host IDs of the vNode's root, who gets the container's stdio (stdio.ts). */
const vnodeRoot = (v: Vnode) => ({ uid: v.record.range.start, gid: v.record.range.start });

export type Undo = (() => void | Promise<void>)[];

/** Runs `runtime <args> <id>` with the process's stdio, records its PIDs; pushes what undoes it onto `undo`. */
export async function launch(d: TaskDeps, t: TaskRecord, p: ProcessRecord, v: Vnode, args: string[], pidFile: string, undo: Undo): Promise<void> {
  const rt = d.runtime(t.runtime);
  const live = d.processes.of(t, p);
  let stdio: ProcessStdio | undefined;
  let consoleArgs: string[] = [];
  if (p.terminal) {
    const tty = await startTtyRelay(join(d.o.paths.dir, 'tty'), p);
    consoleArgs = ['--console-socket', tty.socket];
    undo.push(() => stopTtyRelay(p));
  } else {
    stdio = await openStdio({ stdin: p.stdin, stdout: p.stdout, stderr: p.stderr }, undefined, vnodeRoot(v));
    live.stdio = stdio;
  }
  try {
    const [a0, ...rest] = args;
    await rt.run(v.initPid, [a0!, ...consoleArgs, ...rest, t.id], {
      stdio: stdio ? [stdio.fds[0], stdio.fds[1], stdio.fds[2]] : ['ignore', 'ignore', 'ignore'],
      seccomp: { onListener: (fd) => supervise(d, fd, t, p) },
    });
  } catch (e) {
    stdio?.closeStdin();
    throw e;
  } finally {
    stdio?.closeChildEnds();
  }
  if (!p.execId) undo.push(() => rt.run(v.initPid, ['delete', '--force', t.id]).then(() => undefined));
  const vnodePid = Number(readFileSync(pidFile, 'utf8').trim());
  if (!(vnodePid > 0)) throw new RuntimeError(`${rt.binary} wrote no PID to ${pidFile}`, null);
  p.vnodePid = vnodePid;
  p.hostPid = v.hostPidOf(vnodePid) ?? 0;
}
