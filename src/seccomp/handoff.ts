// Starting a command under vnode's seccomp filter (native/vnode-runtime-exec.c) and
// taking its listener: the helper writes the number of its listener descriptor on
// HANDOFF_FD and waits; the parent copies the descriptor (pidfd_getfd) and answers one
// byte, and the helper closes both and goes on.
import type { ChildProcess, StdioOptions } from 'node:child_process';
import { closeSync } from 'node:fs';
import type { Duplex } from 'node:stream';
import { pidfdGetfd, pidfdOpen } from '../sys/index.js';

/** fd of the helper on which it hands over its listener. */
export const HANDOFF_FD = 3;

/**
 * argv and stdio that run `command` under the filter, with a listener to hand over;
 * `helperArgs` are more options of vnode-runtime-exec (--pid-ns-of).
 */
export function filteredCommand(helper: string, command: string[], stdio: StdioOptions[], helperArgs: string[] = []): { argv: string[]; stdio: StdioOptions[] } {
  const out = [...stdio];
  while (out.length < HANDOFF_FD) out.push('ignore');
  out[HANDOFF_FD] = 'pipe';
  return { argv: [helper, '--seccomp-handoff-fd', String(HANDOFF_FD), ...helperArgs, '--', ...command], stdio: out };
}

/** Takes the listener of a child started with filteredCommand; `onListener` owns it from then on. */
export function takeListener(child: ChildProcess, onListener: (fd: number) => void): void {
  const ch = child.stdio[HANDOFF_FD] as Duplex | null | undefined;
  if (!ch) return;
  let line = '';
  ch.on('error', () => undefined);
  ch.on('data', (d: Buffer) => {
    line += d.toString();
    if (!line.endsWith('\n') || child.pid === undefined) return;
    let pidfd: number | undefined;
    try {
      pidfd = pidfdOpen(child.pid);
      onListener(pidfdGetfd(pidfd, Number(line.trim())));
      ch.end('k');
    } catch {
      // no listener taken: the helper's handoff fails, and so does the command
      ch.destroy();
    } finally {
      if (pidfd !== undefined) closeSync(pidfd);
    }
  });
}
