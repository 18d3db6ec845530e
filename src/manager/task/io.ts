// Task API ResizePty and CloseIO: to the terminal relay, or the stdin pipe the manager feeds.
import type { CallContext, TaskDeps } from './deps.js';
import { PreconditionError } from './errors.js';
import { ttyCommand } from './tty-relay.js';

export function resizePty(d: TaskDeps, req: { id: string; execId: string; width: number; height: number }, ctx: CallContext): void {
  const t = d.task(ctx.namespace, req.id);
  const p = d.proc(t, req.execId);
  if (!p.terminal) throw new PreconditionError(`process ${req.execId || req.id} has no terminal`);
  ttyCommand(p, `resize ${req.width} ${req.height}`, d.logFor(t, req.execId));
}

export function closeIO(d: TaskDeps, req: { id: string; execId: string; stdin: boolean }, ctx: CallContext): void {
  const t = d.task(ctx.namespace, req.id);
  const p = d.proc(t, req.execId);
  if (!req.stdin) return;
  if (p.terminal) ttyCommand(p, 'close-stdin', d.logFor(t, req.execId));
  else d.processes.of(t, p).stdio?.closeStdin();
}
