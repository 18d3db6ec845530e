// Hands a privileged container's cgroup to its vNode's root (design: docs/cgroups.md,
// "Delegation"). Runs after `runtime create` (the runtime has made the container's
// cgroup and put its init there, waiting to exec) and before `runtime start`, so the
// container's first process already finds its cgroup writable. The container's own
// cgroup namespace (the planner gives every container one) is rooted at that cgroup:
// inside, /sys/fs/cgroup shows it as the root, and nothing above it.
// On delete, child cgroups the tenant left behind are removed (deepest first) once the
// runtime has removed what it knows, so the pod's cgroup can go.
import { chownSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { delegationPlan, mountsCgroupfsWritable, parseDelegateFiles, parseHierarchies, type DelegationTarget } from '../../cgroup/index.js';
import type { OciSpec } from '../../oci/index.js';
import type { Logger } from '../../log/index.js';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The directories and files to chown for the container whose init is host PID `pid` (none if it cannot write its cgroupfs). */
export function delegationTargets(spec: OciSpec, pid: number, proc = '/proc'): DelegationTarget[] {
  if (!mountsCgroupfsWritable(spec.mounts) || !(pid > 0)) return [];
  const procCgroup = read(join(proc, String(pid), 'cgroup'));
  const mountinfo = read(join(proc, 'self', 'mountinfo'));
  if (!procCgroup || !mountinfo) return [];
  return delegationPlan({ procCgroup, hierarchies: parseHierarchies(mountinfo), v2Files: parseDelegateFiles(read('/sys/kernel/cgroup/delegate')) });
}

/**
 * chowns every target to the vNode's root (`uid`:`gid` on the host). A file the kernel
 * does not have (ENOENT: an older kernel's delegate list) is skipped; any other
 * failure throws, since a privileged pod then would not get what it asked for.
 * Returns the delegated directories, recorded for delete.
 */
export function delegateCgroups(targets: DelegationTarget[], uid: number, gid: number): string[] {
  for (const t of targets) {
    for (const p of t.paths) {
      try {
        chownSync(p, uid, gid);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || p === t.dir) throw e;
      }
    }
  }
  return targets.map((t) => t.dir);
}

/** Child cgroups below `dir`, deepest first. */
function childCgroups(dir: string): string[] {
  const out: string[] = [];
  let ents: import('node:fs').Dirent[];
  try {
    ents = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of ents) {
    if (!e.isDirectory()) continue;
    const child = join(dir, e.name);
    out.push(...childCgroups(child), child);
  }
  return out;
}

/**
 * After `runtime delete`: removes what is left of the delegated cgroups (children the
 * tenant made, then the directory itself). runc and crun remove child cgroups too;
 * this covers a runtime that does not and a delete that raced a dying process.
 * A cgroup that still has processes stays (EBUSY), with a warning.
 */
export function removeDelegatedCgroups(dirs: string[] | undefined, log: Pick<Logger, 'warn'>): void {
  for (const dir of dirs ?? []) {
    for (const d of [...childCgroups(dir), dir]) {
      try {
        rmdirSync(d);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT') log.warn({ cgroup: d, err: e }, `delete: cannot remove cgroup ${d}: ${code ?? (e as Error).message}`);
      }
    }
  }
}

/** Create's step: delegates a privileged container's cgroups to the vNode's root `rootUid` (uid = gid) and records them on the task. */
export function delegateTaskCgroups(t: { delegatedCgroups?: string[] }, spec: OciSpec, hostPid: number, rootUid: number): void {
  const dirs = delegateCgroups(delegationTargets(spec, hostPid), rootUid, rootUid);
  if (dirs.length > 0) t.delegatedCgroups = dirs;
}
