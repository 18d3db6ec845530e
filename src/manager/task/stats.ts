// Task API Stats and Pids: read from the container's cgroup (recorded at create, so
// it can be read after its processes are gone).
import { packAny, RUNC_PROCESS_DETAILS } from '../../proto/index.js';
import { cgroupOf, cgroupPids, metricsOf } from '../../cgroup/index.js';
import { isAlive } from '../../sys/index.js';
import type { CallContext, TaskDeps } from './deps.js';
import { NoCgroupError } from './errors.js';

export function taskStats(d: TaskDeps, req: { id: string }, ctx: CallContext) {
  const t = d.task(ctx.namespace, req.id);
  const loc = t.cgroup ?? cgroupOf(t.init.hostPid);
  if (!loc) throw new NoCgroupError(`stats ${t.id}: the container has no cgroup`);
  const m = metricsOf(loc);
  return { stats: packAny(m.type, m.value) };
}

export function taskPids(d: TaskDeps, req: { id: string }, ctx: CallContext) {
  const t = d.task(ctx.namespace, req.id);
  if (t.init.status === 'stopped' || !isAlive(t.init.hostPid)) return { processes: [] };
  const loc = t.cgroup ?? cgroupOf(t.init.hostPid);
  const pids = loc ? cgroupPids(loc) : [t.init.hostPid];
  const byHostPid = new Map(Object.values(t.execs).map((e) => [e.hostPid, e.execId]));
  return {
    processes: pids.map((pid) => {
      const execId = byHostPid.get(pid);
      return execId ? { pid, info: packAny(RUNC_PROCESS_DETAILS, { execId }) } : { pid };
    }),
  };
}
