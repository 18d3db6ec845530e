// The OCI spec's linux.cgroupsPath in its two forms, and the cgroup it names:
//   cgroupfs driver: "/kubepods/burstable/pod1234/abcd" (a path from the hierarchy root)
//   systemd driver:  "kubepods-burstable-pod1234.slice:cri-containerd:abcd", i.e.
//                    "<slice>:<prefix>:<name>", the unit "<prefix>-<name>.scope" in that
//                    slice, at /kubepods.slice/kubepods-burstable.slice/.../<unit>
import { join } from 'node:path';
import { hostCgroupLayout, standardLayout, type CgroupLayout } from './layout.js';
import { locationAt, parentLocation, type CgroupLocation } from './location.js';

/** Thrown for a cgroupsPath that names no cgroup; `code` is stable. */
export class CgroupPathError extends Error {
  override name = 'CgroupPathError';
  readonly code = 'CGROUP_BAD_PATH';
}

export type CgroupsPath =
  | { driver: 'cgroupfs'; path: string }
  | { driver: 'systemd'; slice: string; prefix: string; name: string };

/** Splits a cgroupsPath into its form; undefined for an empty one (the runtime picks). */
export function parseCgroupsPath(cgroupsPath: string | undefined): CgroupsPath | undefined {
  if (!cgroupsPath) return undefined;
  if (cgroupsPath.startsWith('/')) return { driver: 'cgroupfs', path: cgroupsPath };
  const parts = cgroupsPath.split(':');
  if (parts.length !== 3) throw new CgroupPathError(`cgroupsPath "${cgroupsPath}" is neither an absolute path (cgroupfs driver) nor "slice:prefix:name" (systemd driver)`);
  const [slice, prefix, name] = parts as [string, string, string];
  if (!name) throw new CgroupPathError(`cgroupsPath "${cgroupsPath}": the systemd form needs a name ("slice:prefix:name")`);
  return { driver: 'systemd', slice, prefix, name };
}

/** "a-b-c.slice" -> "/a.slice/a-b.slice/a-b-c.slice"; "-.slice" is the root slice. */
export function expandSlice(slice: string): string {
  if (slice === '-.slice') return '/';
  const base = slice.endsWith('.slice') ? slice.slice(0, -'.slice'.length) : '';
  if (!base || slice.includes('/') || base.startsWith('-') || base.endsWith('-') || base.includes('--')) {
    throw new CgroupPathError(`"${slice}" is not a systemd slice name (like "kubepods-burstable.slice")`);
  }
  let path = '';
  let prefix = '';
  for (const word of base.split('-')) {
    prefix = prefix ? `${prefix}-${word}` : word;
    path += `/${prefix}.slice`;
  }
  return path;
}

/** The systemd unit a systemd-form path names: a scope unless the name is itself a slice. */
export function systemdUnitName(p: { prefix: string; name: string }): string {
  if (p.name.endsWith('.slice')) return p.name;
  return p.prefix ? `${p.prefix}-${p.name}.scope` : `${p.name}.scope`;
}

/** The path from the hierarchy root a cgroupsPath names (systemd's default slice is system.slice). */
export function cgroupsPathDir(p: CgroupsPath): string {
  if (p.driver === 'cgroupfs') return p.path;
  return join(expandSlice(p.slice || 'system.slice'), systemdUnitName(p));
}

/** The cgroup a cgroupsPath names on a host laid out as `layout`. */
export function locationOfCgroupsPath(p: CgroupsPath, layout: CgroupLayout = hostCgroupLayout()): CgroupLocation | undefined {
  const loc = locationAt(cgroupsPathDir(p), layout);
  if (!loc || p.driver === 'cgroupfs') return loc;
  return { ...loc, systemd: { slice: p.slice || 'system.slice', unit: systemdUnitName(p) } };
}

/**
 * A task's own cgroup, from the spec's cgroupsPath, before the runtime makes it: the
 * cgroupfs form as it is, the systemd form as its unit's directory (the manager runs the
 * runtime there with the cgroupfs driver; systemd-unit.ts). `unified` says which
 * standard layout (/sys/fs/cgroup or /sys/fs/cgroup/<controller>).
 */
export function taskCgroupOf(cgroupsPath: string | undefined, unified: boolean): CgroupLocation | undefined {
  let p: CgroupsPath | undefined;
  try {
    p = parseCgroupsPath(cgroupsPath);
  } catch {
    return undefined;
  }
  return p ? locationOfCgroupsPath(p, standardLayout(unified)) : undefined;
}

/** The systemd unit a systemd-form cgroupsPath names and its directory; undefined for the cgroupfs form. Throws CgroupPathError for a malformed one. */
export function systemdScopeOf(cgroupsPath: string | undefined): { slice: string; unit: string; dir: string } | undefined {
  const p = parseCgroupsPath(cgroupsPath);
  if (!p || p.driver !== 'systemd') return undefined;
  return { slice: p.slice || 'system.slice', unit: systemdUnitName(p), dir: cgroupsPathDir(p) };
}

/** The vnodefs base cgroup for a pod: the parent of its sandbox container's cgroup. */
export function podCgroupOf(sandbox: CgroupLocation): CgroupLocation {
  return parentLocation(sandbox);
}
