// Task API Kill: a signal to the container's init (through the runtime, which also
// reaches every process with --all) or to one exec process. A process that has
// already exited answers NotFound, like containerd's runc shim.
import { RuntimeError } from '../oci-runtime.js';
import type { CallContext, TaskDeps } from './deps.js';
import { ProcessFinishedError } from './errors.js';

export async function killProcess(d: TaskDeps, req: { id: string; execId: string; signal: number; all: boolean }, ctx: CallContext): Promise<void> {
  const t = d.task(ctx.namespace, req.id);
  const p = d.proc(t, req.execId);
  const name = req.execId || req.id;
  if (p.status === 'stopped' && !req.all) throw new ProcessFinishedError(`process ${name} already finished`);
  const v = d.vnodes.get(t.vnode);
  if (!v?.alive()) throw new ProcessFinishedError(`process ${name} already finished (its vNode is gone)`);
  try {
    if (!req.execId) {
      const args = req.all ? ['kill', '--all', t.id, String(req.signal)] : ['kill', t.id, String(req.signal)];
      await d.runtime(t.runtime).run(v.initPid, args);
    } else {
      // PID 0 would signal the manager's own process group: never guess.
      if (!(p.hostPid > 0)) throw new ProcessFinishedError(`process ${req.execId} has no known host PID`);
      process.kill(p.hostPid, req.signal);
    }
  } catch (e) {
    if (finished(e)) throw new ProcessFinishedError(`process ${name} already finished`);
    throw e;
  }
}

/** The runtime (or kill(2)) says the process is no longer there to signal. */
function finished(e: unknown): boolean {
  if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true;
  return e instanceof RuntimeError && (e.kind === 'not-running' || e.kind === 'not-found' || e.kind === 'already-finished');
}
