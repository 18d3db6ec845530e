// A mirror of one of kubelet's atomic-writer volumes (secret, projected token, ...) on
// a kernel that cannot ID-map tmpfs (< 6.3): a tmpfs of the manager's own at the
// container's mount point, holding a copy of the volume whose files keep their modes and
// are owned by the vNode's IDs for their owners (host root → the range's first ID), so
// root in the pod reads a 0400 token as on 6.3+. The source directory is watched; when
// kubelet swaps `..data` the mirror copies the new timestamped directory and swaps its
// own `..data` the same way (rename), so the pod sees updates atomically.
import { chmodSync, copyFileSync, lchownSync, lstatSync, mkdirSync, readdirSync, readlinkSync, renameSync, rmSync, statfsSync, symlinkSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { mount } from '../../sys/index.js';
import { parseAtomicWriter, planSync, type DirEntryInfo, type SyncOp } from './layout.js';
import { vnodeOwner, type IdRange } from './owners.js';

/** A missed inotify event (or a copy that failed half way) is caught up with this often. */
const RESYNC_MS = 10_000;
/** kubelet's update is several renames in a row: one sync after they settle. */
const DEBOUNCE_MS = 20;

export class MirrorError extends Error {
  override name = 'MirrorError';
  readonly code = 'VNODE_TMPFS_MIRROR_FAILED';
}

export interface MirrorRecord {
  source: string;
  target: string;
  range: IdRange;
}

function entriesOf(dir: string): DirEntryInfo[] {
  return readdirSync(dir, { withFileTypes: true }).map((e) => {
    if (e.isSymbolicLink()) return { name: e.name, kind: 'link', target: readlinkSync(join(dir, e.name)) };
    return { name: e.name, kind: e.isDirectory() ? 'dir' : e.isFile() ? 'file' : 'other' };
  });
}

/** Gives `path` (not following symlinks) the vNode's owner for `st`'s owner, and `st`'s mode. */
function own(path: string, st: { uid: number; gid: number; mode: number }, r: IdRange, isLink: boolean): void {
  lchownSync(path, vnodeOwner(st.uid, r), vnodeOwner(st.gid, r));
  // after the chown: chown clears setuid/setgid bits
  if (!isLink) chmodSync(path, st.mode & 0o7777);
}

/** Copies `from` to `to` (a new path), recursively, with modes and vNode owners. */
export function copyTree(from: string, to: string, r: IdRange): void {
  const st = lstatSync(from);
  if (st.isSymbolicLink()) {
    symlinkSync(readlinkSync(from), to);
    own(to, st, r, true);
  } else if (st.isDirectory()) {
    mkdirSync(to, { mode: 0o700 });
    for (const name of readdirSync(from)) copyTree(join(from, name), join(to, name), r);
    own(to, st, r, false);
  } else if (st.isFile()) {
    copyFileSync(from, to);
    own(to, st, r, false);
  }
  // sockets, FIFOs, devices: kubelet never writes them into these volumes
}

/**
 * A tmpfs for a mirror at `at`, no bigger than the source's file system. No
 * nosuid/nodev/noexec of its own: runc remounts the container's bind with the spec's
 * flags from inside the vNode, where a flag the mount already has is locked and leaving
 * it out is EPERM; the planner puts the source mount's flags in the spec instead.
 */
export function mountMirrorTmpfs(at: string, source: string, root: { uid: number; gid: number; mode: number }, r: IdRange): void {
  const fs = statfsSync(source);
  const size = Math.max(Number(fs.blocks) * Number(fs.bsize), 1 << 20);
  const mode = (root.mode & 0o7777).toString(8);
  mount('vnode-mirror', at, 'tmpfs', 0, `size=${size},mode=${mode},uid=${vnodeOwner(root.uid, r)},gid=${vnodeOwner(root.gid, r)}`);
}

function apply(op: SyncOp, source: string, mirror: string, r: IdRange): void {
  const path = join(mirror, op.name);
  if (op.op === 'remove') {
    rmSync(path, { recursive: true, force: true });
  } else if (op.op === 'copy') {
    const partial = `${path}.vnode-partial`;
    rmSync(partial, { recursive: true, force: true });
    copyTree(join(source, op.name), partial, r);
    renameSync(partial, path);
  } else {
    const tmp = `${path}.vnode-tmp`;
    rmSync(tmp, { force: true });
    symlinkSync(op.target, tmp);
    const st = lstatSync(join(source, op.name), { throwIfNoEntry: false });
    if (st) own(tmp, st, r, true);
    // rename cannot replace a directory with a symlink: only a key kubelet turned into a link
    if (lstatSync(path, { throwIfNoEntry: false })?.isDirectory()) rmSync(path, { recursive: true, force: true });
    renameSync(tmp, path);
  }
}

/** Brings `mirror` up to date with the atomic-writer volume `source`; returns the steps taken. */
export function syncMirror(source: string, mirror: string, r: IdRange): SyncOp[] {
  const layout = parseAtomicWriter(entriesOf(source));
  if (!layout) throw new MirrorError(`${source} is no longer an atomic-writer volume (no ..data symlink to a timestamped directory)`);
  const ops = planSync(layout, entriesOf(mirror));
  for (const op of ops) apply(op, source, mirror, r);
  return ops;
}

function isEmpty(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch {
    return true;
  }
}

/** A running mirror: the watch on its source and the periodic catch-up. */
export class Mirror {
  private watcher: FSWatcher | undefined;
  private readonly timer: NodeJS.Timeout;
  private pending: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(readonly rec: MirrorRecord, private readonly warn: (msg: string) => void) {
    this.timer = setInterval(() => this.sync(), RESYNC_MS).unref();
    this.rewatch();
  }

  private rewatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
    try {
      this.watcher = watch(this.rec.source, { persistent: false }, () => this.schedule());
      // the source goes away (kubelet unmounts it once the pod is gone): the interval retries
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
      });
    } catch {
      /* source gone: the interval catches up if it comes back */
    }
  }

  private schedule(): void {
    if (this.closed || this.pending) return;
    this.pending = setTimeout(() => {
      this.pending = undefined;
      this.sync();
    }, DEBOUNCE_MS);
    this.pending.unref();
  }

  /** One catch-up; failures are logged and retried on the next event or interval. */
  sync(): void {
    if (this.closed) return;
    try {
      syncMirror(this.rec.source, this.rec.target, this.rec.range);
      if (!this.watcher) this.rewatch();
    } catch (e) {
      // kubelet tearing the volume down (unmounted: an empty directory, or gone) before
      // containerd deletes the container: the mirror keeps the last content, quietly
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e instanceof MirrorError && isEmpty(this.rec.source))) return;
      this.warn(`tmpfs mirror ${this.rec.target} of ${this.rec.source}: ${(e as Error).message}`);
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    this.watcher?.close();
  }
}
