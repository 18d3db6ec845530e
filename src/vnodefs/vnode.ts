// One vNode as vnodefs knows it: where its cgroup is, when it started, its load.
import { CgroupReader, type CgroupLocation } from './cgroup.js';
import type { GenContext, HostFiles } from './context.js';
import { LoadTracker, nsLevelOf } from './load.js';
import { readerLocation } from './reader-cgroup.js';
import { slotOf } from './tree.js';

/** What the runtime core tells vnodefs about a vNode. */
export interface VnodeSpec {
  /** v1: one directory per controller; v2: the unified directory. Absolute host paths. */
  cgroup: CgroupLocation;
  /** Start time of the vNode, ms since the epoch (Date.now() when it was created). */
  startedAt: number;
  /** Host PID of the init of the vNode's PID namespace, for PIDs as the vNode sees them. */
  pidNamespaceInitPid?: number;
}

export class Vnode {
  readonly slot: number;
  readonly cgroup: CgroupReader;
  readonly load: LoadTracker;

  constructor(
    readonly id: string,
    readonly spec: VnodeSpec,
  ) {
    this.slot = slotOf(id);
    this.cgroup = new CgroupReader(spec.cgroup);
    this.load = new LoadTracker(this.cgroup, nsLevelOf(spec.pidNamespaceInitPid));
  }

  /** The generator context for a read by host process `pid` at time `now`. */
  context(pid: number, host: HostFiles, now: number): GenContext {
    const loc = readerLocation(this.spec.cgroup, pid);
    const cgroup = loc === this.spec.cgroup ? this.cgroup : new CgroupReader(loc);
    return { cgroup, host, startedAt: this.spec.startedAt, now, load: () => this.load.snapshot() };
  }
}
