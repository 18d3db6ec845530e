// Task API State: a process's status as containerd knows them, from its state.
import { TaskStatus } from '../../proto/index.js';
import type { ProcessState } from '../process-state.js';
import type { CallContext, TaskDeps } from './deps.js';

const STATUS: Record<ProcessState, TaskStatus> = {
  created: TaskStatus.Created,
  // until TaskStart has gone out, containerd sees the process as created
  starting: TaskStatus.Created,
  'exit-pending': TaskStatus.Created,
  running: TaskStatus.Running,
  paused: TaskStatus.Paused,
  stopped: TaskStatus.Stopped,
  deleted: TaskStatus.Stopped,
};

export function processState(d: TaskDeps, req: { id: string; execId: string }, ctx: CallContext) {
  const t = d.task(ctx.namespace, req.id);
  const p = d.proc(t, req.execId);
  return {
    id: req.execId || t.id,
    bundle: t.bundle,
    pid: p.hostPid,
    status: STATUS[d.processes.state(t, p)],
    stdin: p.stdin,
    stdout: p.stdout,
    stderr: p.stderr,
    terminal: p.terminal,
    exitStatus: p.exitStatus ?? 0,
    exitedAt: p.exitedAt ? new Date(p.exitedAt) : undefined,
    execId: req.execId,
  };
}
