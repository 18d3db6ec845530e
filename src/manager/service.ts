// The Task API for every vNode task of one containerd instance, with the semantics of
// containerd's runc shim. This class only wires the verbs (task/<verb>.ts) to their
// shared state (task/deps.ts). Processes are created by the OCI runtime inside the
// task's vNode; their exits come from the vNode init's exit log (task/exits.ts), so
// they are known even if they happen while this manager is down.
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { CreateTaskRequest } from '../proto/index.js';
import type { Any } from '../proto/index.js';
import type { TaskApi } from '../taskapi/index.js';
import type { VnodeSpec } from '../vnodefs/index.js';
import { TaskStore, type TaskRecord } from './task-store.js';
import { Tombstones } from '../taskapi/index.js';
import { VnodeRegistry } from './vnode.js';
import { createTask } from './task/create.js';
import { deleteProcess, destroyTask, type DeleteResult } from './task/delete.js';
import { TaskDeps, type CallContext, type ServiceOptions } from './task/deps.js';
import { UnsupportedError } from './task/errors.js';
import { addExec, type ExecRequest } from './task/exec.js';
import { ExitBook } from './task/exits.js';
import { closeIO, resizePty } from './task/io.js';
import { killProcess } from './task/kill.js';
import { pauseTask, resumeTask } from './task/pause.js';
import { ProcessTable } from './task/processes.js';
import { adoptListeners } from './task/seccomp.js';
import { startProcess } from './task/start.js';
import { processState } from './task/state.js';
import { taskPids, taskStats } from './task/stats.js';
import { persistSysctls, viewsOnDisk } from './task/sysctls.js';
import { updateTask } from './task/update.js';
import { detachHostNetwork, recoverNetworks } from './task/pod-network.js';
import { waitProcess } from './task/wait.js';
import { resumeMirror } from './pod-tmpfs/fallback.js';

export type { ServiceOptions } from './task/deps.js';
export { namespaceOfBundle } from './task/create.js';

const VERSION = '0.1.0';

export class TaskService implements TaskApi {
  readonly store: TaskStore;
  readonly vnodes: VnodeRegistry;
  private readonly d: TaskDeps;
  private readonly exits: ExitBook;

  constructor(private readonly o: ServiceOptions) {
    this.store = new TaskStore(o.paths.state);
    // the registry reports exits to the book, which needs the registry: bound late
    let exits: ExitBook | undefined;
    this.vnodes = new VnodeRegistry(o.paths, process.env.VNODE_ID_POOL, (v, r) => exits?.onExit(v, r), (v) =>
      detachHostNetwork(v).catch((e: Error) => o.logger.warn({ vnode: v.name, err: e }, `vNode ${v.name}: taking its network off the pod network failed: ${e.message}`)),
    );
    this.d = new TaskDeps(o, this.store, new Tombstones(o.paths.deleted), this.vnodes, new ProcessTable());
    this.exits = exits = new ExitBook(this.d);
    for (const dir of [o.paths.runtimeRoot, join(o.paths.dir, 'logs'), join(o.paths.dir, 'tty')]) mkdirSync(dir, { recursive: true, mode: 0o700 });
    // Root filesystems and pod files live below mounts/: the path to them must be
    // traversable by the vNodes' root users (no listing, just search).
    mkdirSync(o.paths.mounts, { recursive: true });
    for (let dir = o.paths.mounts; dir !== '/' && dir !== '.'; dir = dirname(dir)) {
      if ((statSync(dir).mode & 0o111) !== 0o111) chmodSync(dir, statSync(dir).mode | 0o111);
    }
  }

  /** Copies the sysctls pods wrote through vnodefs into the task records (every few seconds). */
  persistSysctls(): void {
    persistSysctls(this.store, this.o.procView);
  }

  /** vnodefs entries of the tasks on disk (to serve them again from the first request after a restart). */
  static viewsOnDisk(stateDir: string): Record<string, VnodeSpec> {
    return viewsOnDisk(stateDir);
  }

  /** After a restart: reload tasks and vNodes, then catch up with exits that happened meanwhile. */
  reload(): void {
    this.store.load();
    this.vnodes.reload();
    for (const t of this.store.all()) for (const m of t.mirrors ?? []) resumeMirror(m, (msg) => this.o.logger.warn({ task: t.id }, msg));
    this.reapDeadVnodes();
  }

  /** After reload: pod network adoptions and vNode attachments a killed manager left, vnode-cni markers of gone netns. */
  recoverNetworks(): Promise<void> {
    return recoverNetworks(this.o.paths, this.o.network ?? {}, (ns, id) => this.store.get(ns, id) !== undefined, this.o.logger.child({ component: 'net' }));
  }

  /** Reports the processes of vNodes whose init died as exited (137). */
  reapDeadVnodes(): void {
    this.exits.reapDeadVnodes();
  }

  /** Seccomp listeners vnode-hold kept across a restart go back to the supervisor. */
  adoptListeners(listeners: { id: string; fd: number }[], drop: (id: string) => void): void {
    adoptListeners(this.d, listeners, drop);
  }

  /** Removes a task's runtime state, mounts, terminal relays and vNode membership. */
  destroy(t: TaskRecord): Promise<DeleteResult> {
    return destroyTask(this.d, this.exits, t);
  }

  // --- Task API ---------------------------------------------------------------------

  create(req: CreateTaskRequest, ctx: CallContext) {
    return createTask(this.d, this.exits, req, ctx);
  }

  start(req: { id: string; execId: string }, ctx: CallContext) {
    return startProcess(this.d, this.exits, req, ctx);
  }

  async exec(req: ExecRequest, ctx: CallContext): Promise<void> {
    addExec(this.d, req, ctx);
  }

  async state(req: { id: string; execId: string }, ctx: CallContext) {
    return processState(this.d, req, ctx);
  }

  kill(req: { id: string; execId: string; signal: number; all: boolean }, ctx: CallContext) {
    return killProcess(this.d, req, ctx);
  }

  wait(req: { id: string; execId: string }, ctx: CallContext) {
    return waitProcess(this.d, req, ctx);
  }

  delete(req: { id: string; execId: string }, ctx: CallContext) {
    return deleteProcess(this.d, this.exits, req, ctx);
  }

  async pids(req: { id: string }, ctx: CallContext) {
    return taskPids(this.d, req, ctx);
  }

  pause(req: { id: string }, ctx: CallContext) {
    return pauseTask(this.d, req, ctx);
  }

  resume(req: { id: string }, ctx: CallContext) {
    return resumeTask(this.d, req, ctx);
  }

  async checkpoint(req: { id: string }): Promise<void> {
    throw new UnsupportedError(`checkpoint ${req.id}: checkpoint/restore is not supported inside vNodes`);
  }

  async resizePty(req: { id: string; execId: string; width: number; height: number }, ctx: CallContext): Promise<void> {
    resizePty(this.d, req, ctx);
  }

  async closeIO(req: { id: string; execId: string; stdin: boolean }, ctx: CallContext): Promise<void> {
    closeIO(this.d, req, ctx);
  }

  update(req: { id: string; resources?: Any }, ctx: CallContext) {
    return updateTask(this.d, req, ctx);
  }

  async stats(req: { id: string }, ctx: CallContext) {
    return taskStats(this.d, req, ctx);
  }

  async connect(req: { id: string }, ctx: CallContext) {
    const t = this.store.get(ctx.namespace, req.id) ?? this.store.findById(req.id);
    return { shimPid: process.pid, taskPid: t?.init.hostPid ?? 0, version: VERSION };
  }

  async shutdown(): Promise<void> {
    // One manager serves every vNode task of this containerd: a shim's Shutdown
    // never takes it down.
  }
}
