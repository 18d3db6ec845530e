// Pod files on tmpfs when tmpfs cannot be ID-mapped (Linux < 6.3, or VNODE_TMPFS_IDMAP=off
// to test this path on a newer kernel). Which way depends on what the volume is
// (docs/kernel-6.1.md, "tmpfs pod files without ID-mapped tmpfs"):
// - a kubelet atomic-writer volume (a `..data` symlink): a mirror, see mirror.ts;
// - any other directory (emptyDir medium Memory, containerd's /dev/shm): the pod's
//   writes must reach kubelet and the pod's other containers, so a plain bind, with the
//   directory itself handed to the vNode's root so it shows as root:root inside;
// - a read-only single file (a secret's subPath, which kubelet never updates): a copy
//   in a tmpfs of its own; a writable one is handed to the vNode's owner in place.
import { existsSync, lchownSync, lstatSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { mount, MS_BIND, MS_REC, umount } from '../../sys/index.js';
import { DATA_LINK } from './layout.js';
import { copyTree, Mirror, mountMirrorTmpfs, syncMirror, type MirrorRecord } from './mirror.js';
import { vnodeOwner, type IdRange } from './owners.js';

export type TmpfsIdmapMode = 'auto' | 'off';

/** How a pod file on tmpfs was given to the container without an ID-mapped mount. */
export type TmpfsFallbackKind = 'mirrored' | 'chowned' | 'copied';

export class TmpfsModeError extends Error {
  override name = 'TmpfsModeError';
  readonly code = 'VNODE_TMPFS_IDMAP_INVALID';
}

/** VNODE_TMPFS_IDMAP: auto (default: ID-map, fall back where the kernel refuses) or off. */
export function tmpfsIdmapMode(value: string | undefined): TmpfsIdmapMode {
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === 'off') return 'off';
  throw new TmpfsModeError(`VNODE_TMPFS_IDMAP="${value}": expected auto or off`);
}

export interface TmpfsFallbackOptions {
  range: IdRange;
  /** The container mounts it read-only (kubelet's secret, projected and configMap volumes always are). */
  readonly: boolean;
  warn: (msg: string) => void;
}

/** Mirrors running in this manager, by mount point; stopped when their task's files are unmounted. */
const running = new Map<string, Mirror>();

function startMirror(rec: MirrorRecord, warn: (msg: string) => void): void {
  running.get(rec.target)?.close();
  running.set(rec.target, new Mirror(rec, warn));
}

/** Stops the mirrors whose mount point is at or below `dir` (before it is unmounted). */
export function stopMirrorsUnder(dir: string): void {
  const prefix = dir.replace(/\/$/, '');
  for (const [target, m] of running) {
    if (target === prefix || target.startsWith(`${prefix}/`)) {
      m.close();
      running.delete(target);
    }
  }
}

/** After a manager restart: watch the sources of the mirrors a task still has mounted. */
export function resumeMirror(rec: MirrorRecord, warn: (msg: string) => void): void {
  if (!existsSync(rec.target)) return;
  startMirror(rec, warn);
  running.get(rec.target)?.sync();
}

function isAtomicWriter(dir: string): boolean {
  return lstatSync(join(dir, DATA_LINK), { throwIfNoEntry: false })?.isSymbolicLink() === true;
}

/** Hands `path` itself (not its contents) to the vNode's owner for its host owner. */
function chownToVnode(path: string, r: IdRange): void {
  const st = lstatSync(path);
  const uid = vnodeOwner(st.uid, r);
  const gid = vnodeOwner(st.gid, r);
  if (uid !== st.uid || gid !== st.gid) lchownSync(path, uid, gid);
}

/**
 * Gives the container `source` (on tmpfs) at `target` (an existing empty directory or
 * file) without an ID-mapped mount. Returns how, and the mirror to record for a restart.
 */
export function placeTmpfsPodFile(source: string, target: string, o: TmpfsFallbackOptions): { kind: TmpfsFallbackKind; mirror?: MirrorRecord } {
  const st = statSync(source);
  if (st.isDirectory() && isAtomicWriter(source)) {
    const rec: MirrorRecord = { source, target, range: o.range };
    mountMirrorTmpfs(target, source, st, o.range);
    try {
      syncMirror(source, target, o.range);
    } catch (e) {
      umount(target);
      throw e;
    }
    startMirror(rec, o.warn);
    return { kind: 'mirrored', mirror: rec };
  }
  if (st.isDirectory() || !o.readonly) {
    chownToVnode(source, o.range);
    mount(source, target, null, MS_BIND | MS_REC);
    return { kind: 'chowned' };
  }
  // the copy's own tmpfs sits beside the mount point; only the file is bound
  const holder = `${target}.mirror`;
  mkdirSync(holder, { mode: 0o700 });
  mountMirrorTmpfs(holder, source, { uid: 0, gid: 0, mode: 0o700 }, { start: 0, size: 0 });
  try {
    const copy = join(holder, 'file');
    copyTree(source, copy, o.range);
    mount(copy, target, null, MS_BIND);
  } catch (e) {
    umount(holder);
    throw e;
  }
  return { kind: 'copied' };
}
