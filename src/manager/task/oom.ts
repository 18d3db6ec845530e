// Was a task's init OOM-killed? Its cgroup's oom_kill count says so, read at the exit.
// Under the systemd driver that cgroup is its scope's, and systemd removes an empty
// scope's cgroup at once: when the exit is handled, the count may be gone with it. The
// pod's slice stays (kubelet removes it), and v2 counts its children's kills in its own
// memory.events, so create records the slice's count and the exit compares. (Another
// container of the same pod killed by the OOM killer meanwhile would be taken for this
// one's: rare, and the exit code is 137 either way.)
import { existsSync } from 'node:fs';
import { oomKills, parentLocation, type CgroupLocation } from '../../cgroup/index.js';

export interface OomBaseline {
  /** oom_kill of the parent (the pod slice) when the task was created. */
  parentKills: number;
}

/** What create records for a task in a systemd scope on v2 (undefined otherwise). */
export function oomBaseline(cgroup: CgroupLocation | undefined): OomBaseline | undefined {
  if (!cgroup?.systemd || cgroup.version !== 2) return undefined;
  return { parentKills: oomKills(parentLocation(cgroup)) };
}

export function wasOomKilled(cgroup: CgroupLocation | undefined, baseline: OomBaseline | undefined): boolean {
  if (!cgroup) return false;
  if (oomKills(cgroup) > 0) return true;
  if (!baseline || cgroup.version !== 2 || existsSync(cgroup.path)) return false;
  return oomKills(parentLocation(cgroup)) > baseline.parentKills;
}
