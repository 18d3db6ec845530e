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
  /**
   * Host UID of the vNode's root. When set, only it (and host root) may write the
   * vNode's sysctls; otherwise any process that can reach the files may.
   */
  rootHostUid?: number;
  /** Sysctl values to start from (e.g. saved before a manager restart). */
  sysctls?: Record<string, string>;
  /**
   * Entries with the same scope share one set of sysctl values: the pods of one vNode
   * each have their own entry (their own cgroup view), but one kernel to tune. The
   * first entry of a scope brings `sysctls`; later ones join what is there.
   */
  sysctlScope?: string;
}

export class Vnode {
  readonly slot: number;
  readonly cgroup: CgroupReader;
  readonly load: LoadTracker;
  /** Sysctls this vNode wrote: name under /proc/sys → value. */
  readonly sysctls: Map<string, string>;

  constructor(
    readonly id: string,
    readonly spec: VnodeSpec,
    sysctls?: Map<string, string>,
  ) {
    this.slot = slotOf(id);
    this.cgroup = new CgroupReader(spec.cgroup);
    this.load = new LoadTracker(this.cgroup, nsLevelOf(spec.pidNamespaceInitPid));
    this.sysctls = sysctls ?? new Map(Object.entries(spec.sysctls ?? {}));
  }

  mayWrite(uid: number): boolean {
    return this.spec.rootHostUid === undefined || uid === 0 || uid === this.spec.rootHostUid;
  }

  /** The generator context for a read by host process `pid` at time `now`. */
  context(pid: number, host: HostFiles, now: number): GenContext {
    const loc = readerLocation(this.spec.cgroup, pid);
    const cgroup = loc === this.spec.cgroup ? this.cgroup : new CgroupReader(loc);
    return { cgroup, host, startedAt: this.spec.startedAt, now, load: () => this.load.snapshot(), sysctls: this.sysctls };
  }
}
