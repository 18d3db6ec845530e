// What this manager holds for each live process besides its record: its state in the
// process state table, its stdio, its Wait callers and an exit held back while it
// starts. Every state change goes through move(), which also writes what the record
// keeps of it (runc's coarse status, the task's paused flag).
import { nextProcessState, recordOf, stateOfRecord, type ProcessState, type ProcessTransition } from '../process-state.js';
import type { ProcessStdio } from '../stdio.js';
import { taskKey, type ProcessRecord, type TaskRecord } from '../task-store.js';

export interface Live {
  state: ProcessState;
  stdio?: ProcessStdio;
  waiters: ((p: ProcessRecord) => void)[];
  /** An exit seen while starting, reported after TaskStart / TaskExecStarted. */
  pendingExit?: { code: number; at: Date };
}

export class ProcessTable {
  private readonly live = new Map<string, Live>();

  private key(t: TaskRecord, execId: string): string {
    return `${taskKey(t.namespace, t.id)}#${execId}`;
  }

  of(t: TaskRecord, p: ProcessRecord): Live {
    const k = this.key(t, p.execId);
    let l = this.live.get(k);
    if (!l) {
      l = { state: stateOfRecord(p.status, !p.execId && t.paused), waiters: [] };
      this.live.set(k, l);
    }
    return l;
  }

  state(t: TaskRecord, p: ProcessRecord): ProcessState {
    return this.of(t, p).state;
  }

  /** "task c1" or "exec process e1 of task c1", as illegal-transition errors name it. */
  subject(t: TaskRecord, p: ProcessRecord): string {
    return p.execId ? `exec process ${p.execId} of task ${t.id}` : `task ${t.id}`;
  }

  /** Throws IllegalTransitionError unless `transition` is allowed now; changes nothing. */
  check(t: TaskRecord, p: ProcessRecord, transition: ProcessTransition, hint?: string): void {
    nextProcessState(this.subject(t, p), this.state(t, p), transition, hint);
  }

  /** Applies `transition` (IllegalTransitionError if not allowed) and updates the record; the caller saves it. */
  move(t: TaskRecord, p: ProcessRecord, transition: ProcessTransition): ProcessState {
    const l = this.of(t, p);
    l.state = nextProcessState(this.subject(t, p), l.state, transition);
    const r = recordOf(l.state);
    p.status = r.status;
    if (!p.execId) t.paused = r.paused;
    return l.state;
  }

  forget(t: TaskRecord, execId: string): void {
    this.live.delete(this.key(t, execId));
  }

  forgetTask(t: TaskRecord): void {
    const prefix = `${taskKey(t.namespace, t.id)}#`;
    for (const k of [...this.live.keys()]) if (k.startsWith(prefix)) this.live.delete(k);
  }
}
