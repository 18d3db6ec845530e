// The host steps that give a container its files before the runtime runs: the
// ID-mapped root filesystem, the ID-mapped clones of pod files the plan lists, the
// private hostPath locations, and the fact the planner needs from the host's mount
// table (which flags a clone's source mount has).
import { chownSync, mkdirSync, realpathSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { OciSpec, Plan } from '../../oci/index.js';
import { mountTable, throwawayUserns } from '../../sys/index.js';
import { chownedImageOf, ensureHostPath, idmapPodFile, mountRootfs, type AskedIdRange, type RootfsMount } from '../rootfs.js';
import type { Vnode } from '../vnode.js';
import type { TmpfsIdmapMode } from '../pod-tmpfs/fallback.js';
import type { MirrorRecord } from '../pod-tmpfs/mirror.js';

/** Where a task's files live: scratch/{rootfs,bundle,layers,files}. */
export interface TaskDirs {
  scratch: string;
  rootfs: string;
  runtimeBundle: string;
  /** ID-mapped clones of pod files. */
  files: string;
}

export function taskDirs(mounts: string, ns: string, id: string): TaskDirs {
  const scratch = join(mounts, encodeURIComponent(ns), id);
  // Our own directory, not the bundle's rootfs: the runtime opens it from inside the
  // user namespace, and containerd's state dir need not be traversable there.
  return { scratch, rootfs: join(scratch, 'rootfs'), runtimeBundle: join(scratch, 'bundle'), files: join(scratch, 'files') };
}

/**
 * The ID-mapped root filesystem: containerd's snapshot mounts, or (`ctr run --rootfs`)
 * the bundle's directory. `asked` is the range of a hostUsers: false pod's own user
 * namespace, whose image containerd 1.7 has chowned to it: that image is mapped from
 * the range into the vNode's (its root files then show as root, as in any vNode pod).
 */
export async function mountTaskRootfs(dirs: TaskDirs, v: Vnode, rootfsMounts: RootfsMount[], bundle: string, rootPath: string, asked?: AskedIdRange): Promise<void> {
  const userns = v.nsFile('user');
  if (rootfsMounts.length === 0) {
    idmapPodFile(resolve(bundle, rootPath), dirs.rootfs, userns);
    return;
  }
  const plan = { target: dirs.rootfs, scratch: join(dirs.scratch, 'layers'), usernsFile: userns, rootId: v.record.range.start };
  const chowned = chownedImageOf(rootfsMounts, asked);
  if (!chowned) {
    mountRootfs(rootfsMounts, plan);
    return;
  }
  const size = Math.min(chowned.size, v.record.range.size);
  const from = await throwawayUserns([{ inside: chowned.uid, outside: v.record.range.start, size }], [{ inside: chowned.gid, outside: v.record.range.start, size }]);
  try {
    mountRootfs(rootfsMounts, { ...plan, chowned: { uid: chowned.uid, usernsFile: from.path } });
  } finally {
    from.close();
  }
}

/** The ID range a spec's own user namespace asks for (CRI's userns_options, hostUsers: false), if any. */
export function askedIdRangeOf(spec: OciSpec): AskedIdRange | undefined {
  const linux = spec.linux;
  // the sandbox makes the namespace, its containers join it by path: both carry the mappings
  const ownUserns = linux?.namespaces?.some((n) => n.type === 'user');
  const uid = linux?.uidMappings?.find((m) => m.containerID === 0);
  const gid = linux?.gidMappings?.find((m) => m.containerID === 0);
  if (!ownUserns || !uid || !gid) return undefined;
  return { uid: uid.hostID, gid: gid.hostID, size: Math.min(uid.size, gid.size) };
}

/**
 * The plan's ID-mapped clones (or, for tmpfs the kernel cannot ID-map, their mirrors and
 * chowned binds), private hostPath locations and the files it writes (the vNode's root's); returns the clones' mount points and
 * the mirrors to watch again after a restart.
 */
export function placePodFiles(dirs: TaskDirs, v: Vnode, plan: Plan, tmpfs: { mode: TmpfsIdmapMode; warn: (msg: string) => void }): { idmaps: string[]; mirrors: MirrorRecord[] } {
  const userns = v.nsFile('user');
  const idmaps: string[] = [];
  const mirrors: MirrorRecord[] = [];
  const range = { start: v.record.range.start, size: v.record.range.size };
  for (const step of plan.idmaps) {
    mkdirSync(dirs.files, { recursive: true, mode: 0o711 });
    const placed = idmapPodFile(step.source, step.target, userns, { mode: tmpfs.mode, range, readonly: step.readonly, warn: tmpfs.warn });
    if (placed.mirror) mirrors.push(placed.mirror);
    idmaps.push(step.target);
  }
  for (const hp of plan.hostPaths) ensureHostPath(v.hostPathRoot, hp.path, hp.hostSource, v.record.range.start);
  for (const f of plan.files) {
    mkdirSync(dirs.files, { recursive: true, mode: 0o711 });
    writeFileSync(f.path, f.content, { mode: 0o644 });
    chownSync(f.path, v.record.range.start, v.record.range.start);
  }
  return { idmaps, mirrors };
}

/**
 * The options of the host mount a path lives on (the mount at the path, else the
 * nearest one above it), from one read of the mount table on first use. An ID-mapped
 * clone of the path gets that mount's flags.
 */
export function hostMountOptions(): (path: string) => readonly string[] | undefined {
  let table: Map<string, string[]> | undefined;
  return (path) => {
    table ??= mountTable();
    let p: string;
    try {
      p = realpathSync(path);
    } catch {
      p = path;
    }
    for (;;) {
      const o = table.get(p);
      if (o) return o;
      const up = dirname(p);
      if (up === p) return undefined;
      p = up;
    }
  };
}
