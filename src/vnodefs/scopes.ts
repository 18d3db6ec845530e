// What the vnodefs entries of one vNode share. In a per-namespace vNode each pod has
// its own entry (its own cgroup view: limits, CPU time), but there is one kernel to
// tune and one set of tasks: sysctl values and the load (tasks of every pod) are kept
// per scope, and dropped with its last entry.
import type { CgroupReader } from '../cgroup/index.js';
import { countTasks, LoadTracker, sumCounts } from './load.js';

export interface Scope {
  sysctls: Map<string, string>;
  load: LoadTracker;
}

interface ScopeState extends Scope {
  members: Map<CgroupReader, number>;
}

export class VnodeScopes {
  private readonly scopes = new Map<string, ScopeState>();

  /**
   * Joins `scope` with an entry measured by `cgroup`. The first entry brings the sysctl
   * values (e.g. saved before a restart); later ones join what is there.
   */
  acquire(scope: string, o: { sysctls?: Record<string, string>; cgroup: CgroupReader; nsLevel: number }): Scope {
    let s = this.scopes.get(scope);
    if (!s) {
      const members = new Map<CgroupReader, number>();
      const nsLevel = o.nsLevel;
      const load = new LoadTracker(() => sumCounts([...members.keys()].map((cg) => countTasks(cg, nsLevel))));
      s = { sysctls: new Map(Object.entries(o.sysctls ?? {})), load, members };
      this.scopes.set(scope, s);
    }
    s.members.set(o.cgroup, (s.members.get(o.cgroup) ?? 0) + 1);
    return s;
  }

  release(scope: string, cgroup: CgroupReader): void {
    const s = this.scopes.get(scope);
    if (!s) return;
    const n = (s.members.get(cgroup) ?? 0) - 1;
    if (n > 0) s.members.set(cgroup, n);
    else s.members.delete(cgroup);
    if (s.members.size === 0) this.scopes.delete(scope);
  }
}
