// Where a cgroup is: one directory per v1 controller, or the one directory of the v2
// unified hierarchy. Absolute host paths. The manager records these for tasks, and
// vnodefs reads a vNode's (or a reader's) limits from them.
import { dirname, join } from 'node:path';
import type { CgroupLayout } from './layout.js';

/** The v1 controllers vnode reads (limits, usage, membership, IO). */
export const V1_CONTROLLERS = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio'] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

/**
 * The systemd unit that owns a cgroup made by the systemd cgroup driver (cgroupsPath
 * "slice:prefix:name"): updates and removal then go through systemd, not cgroupfs.
 */
export interface SystemdUnit {
  /** The parent slice, e.g. "kubepods-burstable-pod1234.slice". */
  slice: string;
  /** The unit itself, e.g. "cri-containerd-abcd.scope". */
  unit: string;
}

export interface CgroupV1Location {
  version: 1;
  /** Controller -> directory; a controller the host has not mounted is absent. */
  paths: Partial<Record<V1Controller, string>>;
  systemd?: SystemdUnit;
}

export interface CgroupV2Location {
  version: 2;
  /** The directory in the unified hierarchy. */
  path: string;
  systemd?: SystemdUnit;
}

export type CgroupLocation = CgroupV1Location | CgroupV2Location;

export function isV1Controller(name: string): name is V1Controller {
  return (V1_CONTROLLERS as readonly string[]).includes(name);
}

/** The directory holding `ctrl`'s files: on v2 the one directory, on v1 that controller's. */
export function controllerDir(loc: CgroupLocation, ctrl: V1Controller): string | undefined {
  return loc.version === 2 ? loc.path : loc.paths[ctrl];
}

/** The directory whose cgroup.procs lists the members (v1: pids, else memory, else cpu). */
export function membersDir(loc: CgroupLocation): string | undefined {
  return loc.version === 2 ? loc.path : (loc.paths.pids ?? loc.paths.memory ?? loc.paths.cpu);
}

/** The parent cgroup (e.g. a pod's, from its sandbox container's). */
export function parentLocation(loc: CgroupLocation): CgroupLocation {
  if (loc.version === 2) return { version: 2, path: dirname(loc.path) };
  const paths: Partial<Record<V1Controller, string>> = {};
  for (const c of V1_CONTROLLERS) if (loc.paths[c]) paths[c] = dirname(loc.paths[c]!);
  return { version: 1, paths };
}

/**
 * The cgroup at `rel` (a path from the hierarchy's root, e.g. "/kubepods/pod1/abc") on
 * a host laid out as `layout`: v2 under the unified mount, v1 under every mounted
 * controller we read. Undefined when the host has neither.
 */
export function locationAt(rel: string, layout: CgroupLayout): CgroupLocation | undefined {
  if (layout.mode === 'v2') return layout.unified ? { version: 2, path: join(layout.unified, rel) } : undefined;
  const paths: Partial<Record<V1Controller, string>> = {};
  for (const c of V1_CONTROLLERS) {
    const mount = layout.v1[c];
    if (mount) paths[c] = join(mount, rel);
  }
  return Object.keys(paths).length > 0 ? { version: 1, paths } : undefined;
}

/**
 * A location as a task record stored it. Records written before src/cgroup existed
 * hold `{ dirs, unified }` (controller -> directory, "" for v2); they are read as the
 * same location so tasks created by an older manager keep their OOM check and stats.
 */
export function asCgroupLocation(value: unknown): CgroupLocation | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.version === 2 && typeof v.path === 'string') return value as CgroupV2Location;
  if (v.version === 1 && typeof v.paths === 'object' && v.paths !== null) return value as CgroupV1Location;
  if (typeof v.dirs === 'object' && v.dirs !== null) {
    const dirs = v.dirs as Record<string, unknown>;
    if (v.unified === true) return typeof dirs[''] === 'string' ? { version: 2, path: dirs[''] } : undefined;
    const paths: Partial<Record<V1Controller, string>> = {};
    for (const c of V1_CONTROLLERS) if (typeof dirs[c] === 'string') paths[c] = dirs[c];
    return { version: 1, paths };
  }
  return undefined;
}
