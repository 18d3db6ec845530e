// The host's view of cgroups, for tests that check where a workload's cgroups went.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHierarchies } from '../../src/cgroup/index.js';

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
