// One vNode as vnodefs knows it: where its cgroup is, when it started, its load.
import { CgroupReader, narrowLocation, pastFreshPeriod, procCgroupText, readCacheTtl, type CgroupLocation } from '../cgroup/index.js';
import type { GenContext, HostFiles } from './context.js';
import { LoadTracker, nsLevelOf } from './load.js';
import type { Scope } from './scopes.js';
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
   * Entries with the same scope are the pods of one vNode: each has its own cgroup view
   * (limits, CPU time), and they share sysctl values and the load (src/vnodefs/scopes.ts).
   */
  scope?: string;
}

export class Vnode {
  readonly slot: number;
  readonly cgroup: CgroupReader;
  readonly load: LoadTracker;
  /** Sysctls this vNode wrote: name under /proc/sys → value. */
  readonly sysctls: Map<string, string>;

  /** `joinScope` gives the sysctls and load shared with the vNode's other entries, if it has a scope. */
  constructor(
    readonly id: string,
    readonly spec: VnodeSpec,
    joinScope?: (cgroup: CgroupReader, nsLevel: number) => Scope,
  ) {
    this.slot = slotOf(id);
    this.cgroup = new CgroupReader(spec.cgroup);
    const nsLevel = nsLevelOf(spec.pidNamespaceInitPid);
    const shared = joinScope?.(this.cgroup, nsLevel);
    this.load = shared?.load ?? LoadTracker.ofCgroup(this.cgroup, nsLevel);
    this.sysctls = shared?.sysctls ?? new Map(Object.entries(spec.sysctls ?? {}));
    this.own = new ReaderView(this.cgroup);
  }

  mayWrite(uid: number): boolean {
    return this.spec.rootHostUid === undefined || uid === 0 || uid === this.spec.rootHostUid;
  }

  /** The generator context for a read by host process `pid` at time `now`. */
  context(pid: number, host: HostFiles, now: number): GenContext {
    return this.contextOf(this.viewOf(pid), host, now);
  }

  contextOf(view: ReaderView, host: HostFiles, now: number): GenContext {
    return { cgroup: view.cgroup, host, startedAt: this.spec.startedAt, now, load: () => this.load.snapshot(), sysctls: this.sysctls };
  }

  /**
   * What reader `pid` is measured by: the cgroup below the vNode's it is in (its
   * container's), else the vNode's. Readers in the same cgroups share one view.
   */
  viewOf(pid: number): ReaderView {
    const text = procCgroupText(pid);
    if (!text) return this.own;
    let view = this.views.get(text);
    if (!view) {
      if (this.views.size >= MAX_VIEWS) this.views.clear();
      const loc = narrowLocation(this.spec.cgroup, text);
      view = loc === this.spec.cgroup ? this.own : new ReaderView(new CgroupReader(loc));
      this.views.set(text, view);
    }
    return view;
  }

  private readonly own: ReaderView;
  /** Views by the reader's /proc/<pid>/cgroup text. */
  private readonly views = new Map<string, ReaderView>();
}

const MAX_VIEWS = 64;

/**
 * The cgroup a set of readers is measured by, and the files rendered for them. A
 * rendered file is served again for the read-cache period (its inputs are cached that
 * long anyway), except during the view's first second: the runtime sets a container's
 * limits only after it has mounted our files.
 */
export class ReaderView {
  private readonly rendered = new Map<number, { at: number; content: Buffer }>();
  private readonly createdAt = performance.now();

  constructor(readonly cgroup: CgroupReader) {}

  /** File `index` as rendered within the read-cache period, else `render()` afresh. */
  cached(index: number, render: () => Buffer): Buffer {
    const now = performance.now();
    const ttl = readCacheTtl();
    const hit = this.rendered.get(index);
    if (hit && now - hit.at < ttl && pastFreshPeriod(this.createdAt, now)) return hit.content;
    const content = render();
    // Keep only renders still inside the period, so an idle view holds little.
    for (const [k, v] of this.rendered) if (now - v.at >= ttl) this.rendered.delete(k);
    if (ttl > 0) this.rendered.set(index, { at: now, content });
    return content;
  }
}
