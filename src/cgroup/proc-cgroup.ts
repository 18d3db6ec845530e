// /proc/<pid>/cgroup: one line per hierarchy, "<id>:<controllers>:<path>".
//   v1      "4:memory:/kubepods/pod1/abc", "2:cpu,cpuacct:/...", "1:name=systemd:/..."
//   v2      "0::/kubepods/pod1/abc" (the only line on a v2 host)
//   hybrid  the v1 lines plus "0::/..." for the unified hierarchy without controllers
// Paths are relative to the hierarchy's root as the reader's cgroup namespace sees it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readText } from './files.js';
import { hostCgroupLayout, type CgroupLayout } from './layout.js';
import { isV1Controller, type CgroupLocation, type V1Controller } from './location.js';

export interface ProcCgroupEntry {
  /** Hierarchy id: 0 for the unified hierarchy. */
  hierarchy: number;
  /** Controllers bound to the hierarchy ("name=systemd" as "systemd"); empty for v2. */
  controllers: string[];
  path: string;
}

export function parseProcCgroup(text: string): ProcCgroupEntry[] {
  const out: ProcCgroupEntry[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const controllers = m[2] === '' ? [] : m[2]!.split(',').map((c) => c.replace(/^name=/, ''));
    out.push({ hierarchy: Number(m[1]), controllers, path: m[3]! });
  }
  return out;
}

/** The unified hierarchy's line ("0::<path>"), if any. */
function unifiedPath(entries: ProcCgroupEntry[]): string | undefined {
  return entries.find((e) => e.hierarchy === 0 && e.controllers.length === 0)?.path;
}

/**
 * The cgroup a process whose /proc/<pid>/cgroup reads `text` is in: on a v2 host its
 * unified directory, else (v1, hybrid) its directory in each v1 controller we read.
 */
export function locationFromProcCgroup(text: string, layout: CgroupLayout = hostCgroupLayout()): CgroupLocation | undefined {
  const entries = parseProcCgroup(text);
  if (layout.mode === 'v2') {
    const rel = unifiedPath(entries);
    return rel === undefined || !layout.unified ? undefined : { version: 2, path: join(layout.unified, rel) };
  }
  const paths: Partial<Record<V1Controller, string>> = {};
  for (const e of entries) {
    for (const c of e.controllers) {
      const mount = isV1Controller(c) ? layout.v1[c] : undefined;
      if (mount) paths[c as V1Controller] = join(mount, e.path);
    }
  }
  return Object.keys(paths).length > 0 ? { version: 1, paths } : undefined;
}

/** The cgroup of host process `pid`, or undefined if it is gone (or in none we read). */
export function cgroupOf(pid: number, layout: CgroupLayout = hostCgroupLayout(), procRoot = '/proc'): CgroupLocation | undefined {
  let text: string;
  try {
    text = readFileSync(join(procRoot, String(pid), 'cgroup'), 'utf8');
  } catch {
    return undefined;
  }
  return locationFromProcCgroup(text, layout);
}

/** A reader's /proc/<pid>/cgroup through the read cache (vnodefs asks on every open), or undefined. */
export function procCgroupText(pid: number, procRoot = '/proc'): string | undefined {
  return pid > 0 ? readText(join(procRoot, String(pid), 'cgroup')) : undefined;
}

function below(candidate: string, base: string): boolean {
  return candidate === base || candidate.startsWith(base.endsWith('/') ? base : `${base}/`);
}

/**
 * The cgroup of a reader whose /proc/<pid>/cgroup reads `text`, as far as it lies
 * within `base`: each controller's directory is the reader's if it is below base's,
 * else base's. Returns `base` itself (the same object) when nothing is narrower, so a
 * caller can tell "measured by base" by identity.
 */
export function narrowLocation(base: CgroupLocation, text: string, layout: CgroupLayout = hostCgroupLayout()): CgroupLocation {
  const entries = parseProcCgroup(text);
  if (base.version === 2) {
    const rel = unifiedPath(entries);
    if (rel === undefined || !layout.unified) return base;
    const cand = join(layout.unified, rel);
    return cand !== base.path && below(cand, base.path) ? { version: 2, path: cand } : base;
  }
  const paths = { ...base.paths };
  let changed = false;
  for (const e of entries) {
    for (const c of e.controllers) {
      if (!isV1Controller(c)) continue;
      const mount = layout.v1[c];
      const mine = base.paths[c];
      if (!mount || !mine) continue;
      const cand = join(mount, e.path);
      if (cand !== mine && below(cand, mine)) {
        paths[c] = cand;
        changed = true;
      }
    }
  }
  return changed ? { version: 1, paths } : base;
}
