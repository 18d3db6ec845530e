// Task API Wait: answers once the process has exited (at once if it already has).
import type { ProcessRecord } from '../task-store.js';
import type { CallContext, TaskDeps } from './deps.js';
import { WaitCanceledError } from './errors.js';

export async function waitProcess(d: TaskDeps, req: { id: string; execId: string }, ctx: CallContext) {
  const t = d.task(ctx.namespace, req.id);
  const p = d.proc(t, req.execId);
  const done = p.status === 'stopped' ? p : await new Promise<ProcessRecord>((res, rej) => {
    d.processes.of(t, p).waiters.push(res);
    ctx.signal?.addEventListener('abort', () => rej(new WaitCanceledError('wait cancelled')), { once: true });
  });
  return { exitStatus: done.exitStatus ?? 0, exitedAt: done.exitedAt ? new Date(done.exitedAt) : undefined };
}
