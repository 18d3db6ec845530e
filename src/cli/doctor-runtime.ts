// `vnode doctor`'s checks of the OCI runtime the vnode manager drives: which one it picks
// (VNODE_RUNTIME, a name or a path, else runc, else crun: src/manager/oci-runtime.ts) and
// whether a crun can run containerd 2.x's pods. crun before 1.9 refuses their specs
// (ociVersion 1.2.x: "unknown version specified"). Every crun refuses a hybrid cgroup
// layout whose cgroup2 hierarchy still holds controllers ("cgroups in hybrid mode not
// supported, drop all controllers from cgroupv2"); the manager shows the crun it drives
// an empty /sys/fs/cgroup/unified/cgroup.controllers there (src/manager/oci-runtime.ts,
// crunHiddenFiles), so that is a note, not a warning.
import { execFileSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CheckResult } from './doctor.js';

/** Where scripts/setup-host.sh puts trixie's crun. */
export const SETUP_HOST_CRUN = '.cache/crun/bin/crun';

/** "crun version 1.8.1" → [1, 8, 1]. */
export function crunVersion(versionOutput: string): [number, number, number] | undefined {
  const m = /^crun version (\d+)\.(\d+)(?:\.(\d+))?/m.exec(versionOutput);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

/** Does this crun accept the ociVersion 1.2.x specs of containerd 2.x? (crun ≥ 1.9 does.) */
export function crunAcceptsContainerd2(v: [number, number, number]): boolean {
  return v[0] > 1 || (v[0] === 1 && v[1] >= 9);
}

/**
 * The verdict on one crun. `unifiedControllers`: on a hybrid host, the controllers left in
 * its cgroup2 hierarchy (undefined elsewhere).
 */
export function crunCheck(path: string, versionOutput: string | undefined, selected: boolean, unifiedControllers?: string[]): CheckResult {
  const name = selected ? 'crun (the runtime vnode uses)' : 'crun';
  const v = versionOutput ? crunVersion(versionOutput) : undefined;
  if (!v) return { name, status: 'WARN', detail: `${path}: cannot read its version`, fix: `check that ${path} --version runs` };
  const ver = /^crun version (\S+)/m.exec(versionOutput!)![1]!;
  const issues: string[] = [];
  const fixes: string[] = [];
  if (!crunAcceptsContainerd2(v)) {
    issues.push(`crun ${ver} refuses containerd 2.x's specs (ociVersion 1.2: "unknown version specified"; crun < 1.9)`);
    fixes.push(`use crun ≥ 1.9: the one scripts/setup-host.sh puts in ${SETUP_HOST_CRUN} (VNODE_RUNTIME=<its absolute path>) or trixie's crun package; or keep runc (the default)`);
  }
  const hybridNote = unifiedControllers && unifiedControllers.length > 0
    ? `; this hybrid host's cgroup2 hierarchy holds ${unifiedControllers.join(', ')}, which crun run by hand refuses ("cgroups in hybrid mode not supported"): the vnode manager shows it an empty /sys/fs/cgroup/unified/cgroup.controllers (no limits of ${unifiedControllers.join(', ')}, which no v1 hierarchy binds)`
    : '';
  if (issues.length === 0) return { name, status: 'OK', detail: `${path}: crun ${ver} (accepts containerd 2.x's specs)${hybridNote}` };
  return { name, status: 'WARN', detail: `${path}: ${issues.join('; ')}${hybridNote}`, fix: fixes.join('; ') };
}

function onPath(bin: string): string | undefined {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin']) {
    if (!d) continue;
    const p = join(d, bin);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return undefined;
}

function versionOf(path: string): string | undefined {
  try { return execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 }); } catch { return undefined; }
}

/** The runtime the manager picks (the same rule as resolveRuntime), or undefined when none is found. */
export function selectedRuntime(wanted = process.env.VNODE_RUNTIME): string | undefined {
  if (wanted) return wanted.includes('/') ? wanted : onPath(wanted);
  return onPath('runc') ?? onPath('crun');
}

/** The selected runtime, and every crun in sight (PATH, VNODE_RUNTIME). */
export function checkRuntimes(unifiedControllers: string[] | undefined): CheckResult[] {
  const sel = selectedRuntime();
  const wanted = process.env.VNODE_RUNTIME;
  const how = wanted ? `VNODE_RUNTIME=${wanted}` : 'default: runc, else crun; set VNODE_RUNTIME (a name or a path) or BinaryName in the runtime\'s options to choose';
  const out: CheckResult[] = [];
  if (!sel) {
    out.push(wanted
      ? { name: 'runtime selection', status: 'FAIL', detail: `${how}: not found`, fix: 'install it, or fix VNODE_RUNTIME' }
      : { name: 'runtime selection', status: 'FAIL', detail: 'neither runc nor crun found', fix: 'apt-get install runc (or crun)' });
    return out;
  }
  const selVersion = versionOf(sel)?.split('\n')[0]?.trim() ?? 'version unknown';
  out.push({ name: 'runtime selection', status: 'OK', detail: `${sel} (${selVersion}); ${how}` });
  const cruns = new Set<string>();
  const sysCrun = onPath('crun');
  if (sysCrun) cruns.add(sysCrun);
  if (/crun/.test(sel.split('/').pop() ?? '') || /^crun version/.test(selVersion)) cruns.add(sel);
  for (const c of cruns) out.push(crunCheck(c, versionOf(c), c === sel, unifiedControllers));
  return out;
}

/** The controllers in the cgroup2 hierarchy of a hybrid host (its cgroup.controllers). */
export function unifiedControllersAt(mount: string | undefined): string[] | undefined {
  if (!mount) return undefined;
  try { return readFileSync(join(mount, 'cgroup.controllers'), 'utf8').trim().split(/\s+/).filter(Boolean); } catch { return undefined; }
}
