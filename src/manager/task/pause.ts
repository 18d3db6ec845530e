// Task API Pause and Resume: the runtime freezes or thaws the container's cgroup.
// Only a running task pauses and only a paused one resumes (process-state.ts).
import type { CallContext, TaskDeps } from './deps.js';

export async function pauseTask(d: TaskDeps, req: { id: string }, ctx: CallContext): Promise<void> {
  const t = d.task(ctx.namespace, req.id);
  d.processes.check(t, t.init, 'pause');
  const v = d.vnodeOf(t);
  await d.runtime(t.runtime).run(v.initPid, ['pause', t.id]);
  d.processes.move(t, t.init, 'pause');
  d.store.save(t);
  d.o.events.publish('/tasks/paused', t.namespace, { containerId: t.id });
}

export async function resumeTask(d: TaskDeps, req: { id: string }, ctx: CallContext): Promise<void> {
  const t = d.task(ctx.namespace, req.id);
  d.processes.check(t, t.init, 'resume');
  const v = d.vnodeOf(t);
  await d.runtime(t.runtime).run(v.initPid, ['resume', t.id]);
  d.processes.move(t, t.init, 'resume');
  d.store.save(t);
  d.o.events.publish('/tasks/resumed', t.namespace, { containerId: t.id });
}
