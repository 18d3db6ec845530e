// The host's view of cgroups, for tests that check where a workload's cgroups went.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expandSlice, parseHierarchies } from '../../src/cgroup/index.js';

/** Every cgroup directory on the host (all mounted hierarchies) whose name matches. */
export function hostCgroupsMatching(re: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    let ents: import('node:fs').Dirent[];
    try { ents = readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      if (re.test(e.name)) out.push(p);
      if (depth < 14) walk(p, depth + 1);
    }
  };
  for (const h of parseHierarchies(readFileSync('/proc/self/mountinfo', 'utf8'))) if (h.root === '/') walk(h.mountPoint, 0);
  return out;
}

/** The process's cgroup directory in each mounted hierarchy, seen from the host. */
export function cgroupDirsOf(pid: number): string[] {
  const hs = parseHierarchies(readFileSync('/proc/self/mountinfo', 'utf8')).filter((h) => h.root === '/');
  const out: string[] = [];
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const names = m[2] ? m[2].split(',') : [];
    const h = hs.find((x) => (names.length === 0 ? x.version === 2 : x.version === 1 && x.controllers.length === names.length && names.every((n) => x.controllers.includes(n))));
    if (h) out.push(join(h.mountPoint, m[3]!));
  }
  return out;
}

/** A pod's cgroup_parent as a path from a hierarchy's root: a cgroupfs path as it is, a systemd slice expanded ("a-b.slice" → "/a.slice/a-b.slice"). */
export function cgroupParentRel(parent: string): string {
  return parent.endsWith('.slice') && !parent.includes('/') ? expandSlice(parent) : parent;
}

/**
 * The host directory of the cgroup at `rel` (a pod's cgroup_parent, cgroupfs path or
 * systemd slice) for `controller`: under its v1 mount, or on a v2-only host
 * under the unified mount. Undefined when neither is mounted.
 */
export function hostCgroupDir(rel: string, controller: string): string | undefined {
  const hs = parseHierarchies(readFileSync('/proc/self/mountinfo', 'utf8')).filter((h) => h.root === '/');
  const v1 = hs.find((h) => h.version === 1 && h.controllers.includes(controller));
  const v2 = hs.find((h) => h.version === 2);
  const base = v1?.mountPoint ?? (hs.some((h) => h.version === 1 && h.controllers.length > 0) ? undefined : v2?.mountPoint);
  return base === undefined ? undefined : join(base, cgroupParentRel(rel));
}

/** Every process in the cgroup directory and below it. */
export function pidsBelow(dir: string): number[] {
  const out: number[] = [];
  const walk = (d: string) => {
    try {
      out.push(...(readFileSync(join(d, 'cgroup.procs'), 'utf8').match(/\d+/g) ?? []).map(Number));
      for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name));
    } catch {
      /* removed meanwhile */
    }
  };
  walk(dir);
  return out;
}
