// Wiring of vnode's seccomp listeners: each container's (or exec's) listener goes to
// the supervisor with what it answers from (the process's vnodefs entry), and is kept
// by vnode-hold under an id recorded with the process, so a restarted manager takes it
// over (adoptListeners).
import { closeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { LISTENER_ID_PREFIX } from '../connection-holder.js';
import type { ProcessRecord, TaskRecord } from '../task-store.js';
import type { TaskDeps } from './deps.js';

/** Hands the seccomp listener of a container (or exec) to the supervisor, with what it answers from. */
export function supervise(d: TaskDeps, fd: number, t: TaskRecord, p: ProcessRecord): void {
  const sup = d.o.supervisor;
  if (!sup) return void closeSync(fd);
  const pv = d.o.procView;
  // kept by vnode-hold under this id, recorded with the process for the next manager
  p.seccompListener ??= `${LISTENER_ID_PREFIX}${randomBytes(8).toString('hex')}`;
  const describe = `${t.pod ?? `task ${t.namespace}/${t.id}`}${p.execId ? ` exec ${p.execId}` : ''} (vNode ${t.vnode})`;
  // a container reads its sandbox's entry; a sandbox or a task without CRI its own
  const entry = (): string | undefined => {
    const id = t.view?.id ?? (t.sandboxId ? d.store.get(t.namespace, t.sandboxId)?.view?.id : undefined);
    return id && pv?.has(id) ? id : undefined;
  };
  sup.add(fd, {
    describe,
    fields: d.fieldsOf(t, p.execId),
    sysinfo: (pid) => {
      const id = entry();
      return id ? pv!.fs.sysinfoOf(id, pid) : undefined;
    },
    overlays: (fs) => {
      const id = entry();
      if (!id) return undefined;
      const prefix = `/${fs}/`;
      return pv!.fs.bindMounts(id).filter((m) => m.destination.startsWith(prefix)).map((m) => ({ source: m.source, rel: m.destination.slice(prefix.length) }));
    },
  }, p.seccompListener);
}

/**
 * Seccomp listeners vnode-hold kept across a restart: each goes back to the supervisor
 * with its process's context; one whose process is no longer known is let go.
 */
export function adoptListeners(d: TaskDeps, listeners: { id: string; fd: number }[], drop: (id: string) => void): void {
  for (const { id, fd } of listeners) {
    const owner = d.store.all().flatMap((t) => [t.init, ...Object.values(t.execs)].map((p) => ({ t, p }))).find(({ p }) => p.seccompListener === id);
    if (owner && owner.p.status !== 'stopped') {
      supervise(d, fd, owner.t, owner.p);
      // what the previous manager received and did not answer
      d.o.supervisor?.replayPending(fd);
    } else {
      drop(id);
      closeSync(fd);
    }
  }
}
