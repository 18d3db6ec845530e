// Exit bookkeeping. Exits come from the vNode init's exit log (by PID in the vNode),
// from a vNode whose init died (all its processes died with it), or from Delete of a
// task that never ran. Each becomes the process's exit transition, the /tasks/exit
// event (after /tasks/oom when the kernel killed it), and the answer of its Wait calls.
import { wasOomKilled } from './oom.js';
import { exitCodeOf, type ExitRecord } from '../exit-log.js';
import type { ProcessTransition } from '../process-state.js';
import type { ProcessRecord, TaskRecord } from '../task-store.js';
import type { Vnode } from '../vnode.js';
import type { TaskDeps } from './deps.js';

export class ExitBook {
  /** Exits whose PID was not (yet) known to belong to a process: "<vnode>:<pid>" -> record. */
  private readonly unclaimed = new Map<string, ExitRecord>();

  constructor(private readonly d: TaskDeps) {}

  /** An exit the vNode init logged. */
  onExit(v: Vnode, r: ExitRecord): void {
    for (const t of this.d.store.all()) {
      if (t.vnode !== v.name) continue;
      for (const p of [t.init, ...Object.values(t.execs)]) {
        if (p.status !== 'stopped' && p.vnodePid === r.pid) {
          this.markExited(t, p, exitCodeOf(r.status), r.at);
          return;
        }
      }
    }
    this.unclaimed.set(`${v.name}:${r.pid}`, r);
    if (this.unclaimed.size > 4096) this.unclaimed.delete(this.unclaimed.keys().next().value!);
  }

  /** An exit the vNode init logged before we knew the PID was this process's (it ran and ended fast). */
  claimEarlyExit(t: TaskRecord, p: ProcessRecord, since: number): void {
    const k = `${t.vnode}:${p.vnodePid}`;
    const r = this.unclaimed.get(k);
    // Only an exit after the process was created: an older one is a reused PID's.
    if (r && r.at.getTime() >= since - 1000) {
      this.unclaimed.delete(k);
      this.markExited(t, p, exitCodeOf(r.status), r.at);
    }
  }

  /**
   * A vNode whose init died took every process of its PID namespace with it, and nobody
   * logged their exits: a reboot(2) inside a hostPID pod (the kernel kills the PID
   * namespace's init), an OOM kill or a kill -9 of vnode-init, or a death while the
   * manager was down. Its processes are reported exited with 137 (SIGKILL, as they were).
   */
  reapDeadVnodes(): void {
    for (const v of this.d.vnodes.list()) {
      if (v.alive()) continue;
      this.d.vnodes.noticeDeath(v);
      for (const t of this.d.store.all().filter((t) => t.vnode === v.name)) {
        for (const p of [t.init, ...Object.values(t.execs)]) {
          if (p.status === 'stopped') continue;
          this.d.logFor(t, p.execId).warn(`vNode ${v.name} is gone (its init died): ${t.id}${p.execId ? ` exec ${p.execId}` : ''} exited`);
          this.markExited(t, p, 137, new Date());
        }
      }
    }
  }

  /** The process exited with `code`; while it is starting, the exit waits for the start's answer. */
  markExited(t: TaskRecord, p: ProcessRecord, code: number, at: Date): void {
    const live = this.d.processes.of(t, p);
    if (live.state === 'starting') {
      this.d.processes.move(t, p, 'exit');
      live.pendingExit = { code, at };
      return;
    }
    if (live.state === 'stopped' || live.state === 'exit-pending' || live.state === 'deleted') return;
    this.publish(t, p, 'exit', code, at);
  }

  /** After the start was answered: the exit held back meanwhile, if any, goes out. */
  reportPendingExit(t: TaskRecord, p: ProcessRecord): void {
    const live = this.d.processes.of(t, p);
    const pending = live.pendingExit;
    live.pendingExit = undefined;
    if (live.state === 'exit-pending' && pending) this.publish(t, p, 'report-exit', pending.code, pending.at);
  }

  private publish(t: TaskRecord, p: ProcessRecord, transition: ProcessTransition, code: number, at: Date): void {
    const { o, processes, store } = this.d;
    const isInit = p === t.init;
    if (isInit && code === 137 && wasOomKilled(t.cgroup, t.oomBaseline)) {
      // Before the exit, as the runc shim does: CRI then reports the reason OOMKilled.
      o.events.publish('/tasks/oom', t.namespace, { containerId: t.id });
    }
    processes.move(t, p, transition);
    p.exitStatus = code;
    p.exitedAt = at.toISOString();
    store.save(t);
    const live = processes.of(t, p);
    live.stdio?.closeStdin();
    o.events.publish('/tasks/exit', t.namespace, { containerId: t.id, id: p.execId || t.id, pid: p.hostPid, exitStatus: code, exitedAt: at });
    for (const w of live.waiters.splice(0)) w(p);
    if (isInit) {
      // Like the runc shim: when init goes, exec processes that share a PID namespace
      // with others (hostPID) must not outlive it.
      const running = Object.values(t.execs).filter((e) => e.status !== 'stopped');
      if (running.length > 0) {
        const v = this.d.vnodes.get(t.vnode);
        if (v?.alive()) this.d.runtime(t.runtime).run(v.initPid, ['kill', '--all', t.id, 'KILL']).catch(() => undefined);
      }
    }
  }
}
