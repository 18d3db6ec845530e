// Sysctl values pods wrote through vnodefs live in this process; they are copied into
// the task records every few seconds so a restarted manager serves them again.
import type { VnodeSpec } from '../../vnodefs/index.js';
import type { ProcView } from '../proc-view.js';
import { TaskStore } from '../task-store.js';

/** Saves the task records whose vnodefs entry's sysctls changed since the last save. */
export function persistSysctls(store: TaskStore, pv: ProcView | undefined): void {
  if (!pv) return;
  for (const t of store.all()) {
    if (!t.view || !pv.has(t.view.id)) continue;
    const now = pv.sysctls(t.view.id);
    if (JSON.stringify(now) === JSON.stringify(t.view.spec.sysctls ?? {})) continue;
    t.view.spec.sysctls = now;
    store.save(t);
  }
}

/** vnodefs entries of the tasks on disk (to serve them again from the first request after a restart). */
export function viewsOnDisk(stateDir: string): Record<string, VnodeSpec> {
  const out: Record<string, VnodeSpec> = {};
  for (const t of new TaskStore(stateDir).load()) {
    if (!t.view) continue;
    // sysctls a vNode wrote live in the task record only from the last save on
    out[t.view.id] = t.view.spec;
  }
  return out;
}
