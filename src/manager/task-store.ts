// Records of tasks (containers) and their processes, persisted on every change so a
// restarted manager knows what runs. A process moves created -> running -> stopped;
// a task is gone once deleted.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { asCgroupLocation, type CgroupLocation } from '../cgroup/index.js';

export type ProcessStatus = 'created' | 'running' | 'stopped';

export interface ProcessRecord {
  execId: string;
  status: ProcessStatus;
  /** PID inside the vNode's PID namespace (what the vNode init's exit log names). */
  vnodePid: number;
  hostPid: number;
  terminal: boolean;
  stdin: string;
  stdout: string;
  stderr: string;
  /** Control FIFO of the terminal relay, when terminal. */
  ttyControl?: string;
  exitStatus?: number;
  exitedAt?: string;
  /** OCI process spec of an exec process (JSON). */
  spec?: unknown;
  /** The id vnode-hold keeps this process's seccomp listener under (taken over after a restart). */
  seccompListener?: string;
}

export interface TaskRecord {
  namespace: string;
  id: string;
  bundle: string;
  vnode: string;
  kind: 'sandbox' | 'container' | 'task';
  sandboxId?: string;
  /** For messages: "pod <namespace>/<name>[ container <name>]" from the CRI annotations. */
  pod?: string;
  /** Where the ID-mapped rootfs is mounted, and the scratch dir of its layers and pod files. */
  rootfs: string;
  scratch: string;
  /** Mount points of ID-mapped pod files, unmounted on delete. */
  idmaps: string[];
  /** Mirrors of kubelet's atomic-writer tmpfs volumes (no ID-mapped tmpfs), watched again after a restart. */
  mirrors?: import('./pod-tmpfs/mirror.js').MirrorRecord[];
  /** The derived bundle the OCI runtime runs. */
  runtimeBundle: string;
  runtime: string;
  paused: boolean;
  init: ProcessRecord;
  execs: Record<string, ProcessRecord>;
  rootfsMounts: { type: string; source: string; target: string; options: string[] }[];
  /** The container's cgroup, recorded at create: it must be readable after its processes are gone (OOM check). */
  cgroup?: CgroupLocation;
  /** The pod slice's OOM count at create, for tasks in a systemd scope on v2 (task/oom.ts). */
  oomBaseline?: { parentKills: number };
  /** Cgroup directories handed to the vNode's root (privileged containers; task/cgroup-delegation.ts), cleaned up on delete. */
  delegatedCgroups?: string[];
  /** A sandbox's pod-network adoption record (src/net): its start requires the adoption finished. */
  netRecord?: string;
  /** The vnodefs entry this task owns (a sandbox's or a task's without CRI), re-served after a restart. */
  view?: { id: string; spec: import('../vnodefs/index.js').VnodeSpec };
}

export function taskKey(namespace: string, id: string): string {
  return `${namespace}/${id}`;
}

export class TaskStore {
  private readonly tasks = new Map<string, TaskRecord>();
  private readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'tasks');
    mkdirSync(this.dir, { recursive: true });
  }

  private file(t: { namespace: string; id: string }): string {
    return join(this.dir, `${encodeURIComponent(t.namespace)}@${encodeURIComponent(t.id)}.json`);
  }

  load(): TaskRecord[] {
    for (const f of readdirSync(this.dir)) {
      if (!f.endsWith('.json')) continue;
      try {
        const t = JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as TaskRecord;
        // records of an older manager hold the cgroup as { dirs, unified }
        if (t.cgroup) t.cgroup = asCgroupLocation(t.cgroup);
        this.tasks.set(taskKey(t.namespace, t.id), t);
      } catch {
        rmSync(join(this.dir, f), { force: true });
      }
    }
    return this.all();
  }

  all(): TaskRecord[] {
    return [...this.tasks.values()];
  }

  get(namespace: string, id: string): TaskRecord | undefined {
    return this.tasks.get(taskKey(namespace, id));
  }

  /** A task by id when the caller's namespace is unknown (ids are unique in practice). */
  findById(id: string): TaskRecord | undefined {
    return this.all().find((t) => t.id === id);
  }

  put(t: TaskRecord): void {
    this.tasks.set(taskKey(t.namespace, t.id), t);
    this.save(t);
  }

  save(t: TaskRecord): void {
    // write-then-rename: a crash never leaves half a record
    const path = this.file(t);
    writeFileSync(`${path}.tmp`, JSON.stringify(t));
    renameSync(`${path}.tmp`, path);
  }

  remove(t: TaskRecord): void {
    this.tasks.delete(taskKey(t.namespace, t.id));
    rmSync(this.file(t), { force: true });
  }
}
