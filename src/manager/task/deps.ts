// What every Task API verb works with: the options the manager was started with, the
// task records, the vNodes, the live processes, the OCI runtimes, and the lookups that
// answer "not found" / "gone" the same way for every verb.
import { join } from 'node:path';
import type { EventPublisher } from '../../taskapi/index.js';
import type { Supervisor } from '../../seccomp/index.js';
import { helperPath } from '../helpers.js';
import { OciRuntime } from '../oci-runtime.js';
import type { InstancePaths } from '../paths.js';
import type { ProcView } from '../proc-view.js';
import type { ProcessRecord, TaskRecord, TaskStore } from '../task-store.js';
import type { Tombstones } from '../../taskapi/index.js';
import type { Vnode, VnodeRegistry } from '../vnode.js';
import { PreconditionError, TaskNotFoundError } from './errors.js';
import type { ProcessTable } from './processes.js';
import type { LogFields, Logger } from '../../log/index.js';
import type { NetworkOptions } from './pod-network.js';
import type { TmpfsIdmapMode } from '../pod-tmpfs/fallback.js';

export interface ServiceOptions {
  paths: InstancePaths;
  events: Pick<EventPublisher, 'publish'>;
  perPod: boolean;
  /** The manager's logger; records of a task carry its pod, vNode and task fields (logFor). */
  logger: Logger;
  /** Host paths whose bind mounts are pod files (ID-mapped in place). */
  podFilePrefixes: string[];
  /** vnodefs: per-pod /proc and /sys files; absent = containers see the kernel's. */
  procView?: ProcView;
  /** Answers the syscalls vnode's seccomp filter notifies; without it they are left to the kernel. */
  supervisor?: Supervisor;
  /** The vnode runtime's CNI chain and vnode-cni's markers (pod-network.ts); absent = defaults, no hostNetwork attachment. */
  network?: NetworkOptions;
  /** VNODE_TMPFS_IDMAP: ID-map pod files on tmpfs where the kernel can (auto, default) or never (off: the < 6.3 path). */
  tmpfsIdmap?: TmpfsIdmapMode;
}

/** Namespace and cancellation of a call, as the verbs use them. */
export interface CallContext {
  namespace: string;
  signal?: AbortSignal;
}

export class TaskDeps {
  private readonly runtimes = new Map<string, OciRuntime>();

  constructor(
    readonly o: ServiceOptions,
    readonly store: TaskStore,
    readonly tombstones: Tombstones,
    readonly vnodes: VnodeRegistry,
    readonly processes: ProcessTable,
  ) {}

  /** A logger whose records name the task: its pod ("<namespace>/<name>"), vNode, task id and exec id. */
  logFor(t: TaskRecord, execId = ''): Logger {
    return this.o.logger.child(this.fieldsOf(t, execId));
  }

  fieldsOf(t: TaskRecord, execId = ''): LogFields {
    const pod = /^pod (\S+)/.exec(t.pod ?? '')?.[1];
    return { ...(pod ? { pod } : {}), vnode: t.vnode, task: t.id, ...(execId ? { exec: execId } : {}) };
  }

  runtime(binary: string): OciRuntime {
    let r = this.runtimes.get(binary);
    if (!r) {
      r = new OciRuntime({ binary, root: this.o.paths.runtimeRoot, logDir: join(this.o.paths.dir, 'logs'), execHelper: helperPath('vnode-runtime-exec') });
      this.runtimes.set(binary, r);
    }
    return r;
  }

  task(ns: string, id: string): TaskRecord {
    const t = this.store.get(ns, id) ?? (ns ? undefined : this.store.findById(id));
    if (!t) throw new TaskNotFoundError(`task ${id} not found in namespace "${ns}"`);
    return t;
  }

  proc(t: TaskRecord, execId: string): ProcessRecord {
    if (!execId) return t.init;
    const p = t.execs[execId];
    if (!p) throw new TaskNotFoundError(`process ${execId} does not exist in task ${t.id}`);
    return p;
  }

  /** The task's vNode, if it can still run things. */
  vnodeOf(t: TaskRecord): Vnode {
    const v = this.vnodes.get(t.vnode);
    if (!v || !v.usable()) throw new PreconditionError(`the vNode ${t.vnode} of task ${t.id} is gone`);
    return v;
  }
}
