// The new mount API (open_tree / mount_setattr / move_mount) for ID-mapped mounts,
// plus mount(2)/umount2(2). Node.js has none of these; they go through koffi.
import { closeSync, openSync, readFileSync } from 'node:fs';
import { errno, libc, SyscallError } from './libc.js';

// x86_64 and aarch64 differ only in the legacy calls; the new mount API has the
// same numbers on every architecture.
const SYS_open_tree = 428;
const SYS_move_mount = 429;
const SYS_mount_setattr = 442;

const OPEN_TREE_CLONE = 1;
const OPEN_TREE_CLOEXEC = 0o2000000;
const AT_FDCWD = -100;
const AT_EMPTY_PATH = 0x1000;
const AT_RECURSIVE = 0x8000;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
const MOUNT_ATTR_IDMAP = 0x100000;

export const MS_RDONLY = 0x1;
export const MS_NOSUID = 0x2;
export const MS_NODEV = 0x4;
export const MS_NOEXEC = 0x8;
export const MS_REMOUNT = 0x20;
export const MS_BIND = 0x1000;
export const MS_REC = 0x4000;
export const MS_PRIVATE = 0x40000;
export const MS_SLAVE = 0x80000;
export const MS_SHARED = 0x100000;
export const MNT_DETACH = 0x2;
export const UMOUNT_NOFOLLOW = 0x8;

let fns:
  | {
      syscall3: (nr: number, a: number, b: string, c: number) => number;
      syscallSetattr: (nr: number, fd: number, path: string, flags: number, attr: Buffer, size: number) => number;
      syscallMove: (nr: number, fromFd: number, fromPath: string, toFd: number, toPath: string, flags: number) => number;
      mount: (src: string | null, target: string, type: string | null, flags: number, data: string | null) => number;
      umount2: (target: string, flags: number) => number;
    }
  | undefined;

function f() {
  if (!fns) {
    const l = libc();
    // Variadic syscall(2) needs one prototype per argument shape.
    fns = {
      syscall3: l.func('long syscall(long nr, int dirfd, const char *path, unsigned int flags)') as never,
      syscallSetattr: l.func('long syscall(long nr, int fd, const char *path, unsigned int flags, void *attr, size_t size)') as never,
      syscallMove: l.func('long syscall(long nr, int fromFd, const char *fromPath, int toFd, const char *toPath, unsigned int flags)') as never,
      mount: l.func('int mount(const char *src, const char *target, const char *type, unsigned long flags, const char *data)') as never,
      umount2: l.func('int umount2(const char *target, int flags)') as never,
    };
  }
  return fns;
}

/**
 * Makes `target` an ID-mapped view of `source` for the user namespace `usernsPath`
 * (e.g. /proc/PID/ns/user): files owned by host UID H appear owned by the UID that H
 * maps to inside that namespace. Recursive, so submounts of source come along.
 */
export function idmapBind(source: string, target: string, usernsPath: string): void {
  const { syscall3, syscallSetattr, syscallMove } = f();
  const tree = syscall3(SYS_open_tree, AT_FDCWD, source, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
  if (tree < 0) throw new SyscallError('open_tree', errno(), source);
  const userns = openSync(usernsPath, 'r');
  try {
    const attr = Buffer.alloc(32);
    attr.writeBigUInt64LE(BigInt(MOUNT_ATTR_IDMAP), 0);
    attr.writeBigUInt64LE(BigInt(userns), 24);
    if (syscallSetattr(SYS_mount_setattr, tree, '', AT_EMPTY_PATH | AT_RECURSIVE, attr, attr.length) < 0) {
      throw new SyscallError('mount_setattr', errno(), `${source} (idmap with ${usernsPath})`);
    }
    if (syscallMove(SYS_move_mount, tree, '', AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
      throw new SyscallError('move_mount', errno(), `${source} -> ${target}`);
    }
  } finally {
    closeSync(userns);
    closeSync(tree);
  }
}

export function mount(source: string | null, target: string, type: string | null, flags: number, data: string | null = null): void {
  if (f().mount(source, target, type, flags, data) !== 0) {
    throw new SyscallError('mount', errno(), `${type ?? 'bind'} ${source ?? ''} on ${target}`);
  }
}

/** Unmounts target; an already-unmounted target (EINVAL/ENOENT) is not an error. */
export function umount(target: string, flags = MNT_DETACH | UMOUNT_NOFOLLOW): boolean {
  if (f().umount2(target, flags) === 0) return true;
  const e = errno();
  if (e === 22 /* EINVAL: not a mount point */ || e === 2 /* ENOENT */) return false;
  throw new SyscallError('umount2', e, target);
}

/**
 * This process's mount table: mount point → per-mount options (rw, nosuid, nodev, …),
 * one /proc/self/mountinfo read. Where several mounts stack on one point the topmost wins.
 */
export function mountTable(): Map<string, string[]> {
  const table = new Map<string, string[]>();
  for (const e of mountEntries()) table.set(e.path, e.options);
  return table;
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
const unescapeOctal = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** One line of /proc/self/mountinfo: mount point (unescaped), per-mount options, and, after the " - ", fstype and superblock options. */
interface MountEntry {
  path: string;
  options: string[];
  fstype: string;
  superOptions: string;
}

/** /proc/self/mountinfo's entries, in order. */
function mountEntries(): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (!f[4]) continue;
    const sep = f.indexOf('-', 6);
    out.push({ path: unescapeOctal(f[4]), options: (f[5] ?? '').split(','), fstype: sep < 0 ? '' : (f[sep + 1] ?? ''), superOptions: sep < 0 ? '' : (f[sep + 3] ?? '') });
  }
  return out;
}

/** An overlay mount: where it is, and its layers as its superblock options name them. */
export interface OverlayMount {
  mountPoint: string;
  lowers: string[];
  upper?: string;
  /** Mounted read-only (the per-mount "ro"): its upper layer then changes no more than a lower. */
  readonly: boolean;
}

/**
 * The overlay mount `path` is on (the mount at `path`, else the nearest above it), from
 * this process's mountinfo; undefined when that mount is not an overlay.
 */
export function overlayMountOf(path: string): OverlayMount | undefined {
  let best: MountEntry | undefined;
  for (const e of mountEntries()) {
    const covers = path === e.path || path.startsWith(e.path === '/' ? '/' : `${e.path}/`);
    // stacked mounts: the later (topmost) entry wins
    if (covers && (!best || e.path.length >= best.path.length)) best = e;
  }
  if (best?.fstype !== 'overlay') return undefined;
  const opt = (key: string) => best.superOptions.split(',').find((o) => o.startsWith(`${key}=`))?.slice(key.length + 1);
  const lowers = unescapeOctal(opt('lowerdir') ?? '').split(':').filter(Boolean);
  const upper = opt('upperdir');
  return { mountPoint: best.path, lowers, ...(upper ? { upper: unescapeOctal(upper) } : {}), readonly: best.options.includes('ro') };
}

/** Mount points at or below `dir` in this process's mount namespace, deepest first. */
export function mountsUnder(dir: string): string[] {
  const prefix = dir.replace(/\/$/, '');
  return [...mountTable().keys()].filter((p) => p === prefix || p.startsWith(`${prefix}/`)).sort((a, b) => b.length - a.length);
}

/** Unmounts everything at or below `dir` (lazily), deepest first. */
export function unmountAllUnder(dir: string): void {
  for (let round = 0; round < 8; round++) {
    const mps = mountsUnder(dir);
    if (mps.length === 0) return;
    for (const mp of mps) umount(mp);
  }
}

/**
 * umount2 on a thread of koffi's pool. Taking down the last mount of an overlayfs
 * syncs its whole upper file system (overlayfs' sync_fs, in the unmounting thread):
 * with much dirty data on that disk this takes seconds to minutes, during which a
 * synchronous call would stop the manager from answering anyone. errno is per thread,
 * so a failure is repeated synchronously to learn it (a failing umount2 is quick).
 */
export function umountAsync(target: string, flags = MNT_DETACH | UMOUNT_NOFOLLOW): Promise<boolean> {
  const call = f().umount2 as unknown as { async(t: string, fl: number, cb: (err: unknown, rc: number) => void): void };
  return new Promise((resolve, reject) => {
    call.async(target, flags, (err, rc) => {
      if (err) return reject(err as Error);
      if (rc === 0) return resolve(true);
      try {
        resolve(umount(target, flags));
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

/** How many mounts sit on `path` in this process's mount namespace (stacked mounts count each). */
function mountsAt(path: string): number {
  return mountEntries().filter((e) => e.path === path).length;
}

/**
 * Detaches the topmost mount on `target` and resolves once it has left the mount table,
 * which a lazy umount2 does before it syncs anything. The rest of the call (an
 * overlay's sync of its upper file system) goes on in the background; `background`
 * gets its outcome. Waits for the whole call when the mount does not leave the table
 * within `detachWaitMs` (a umount that failed, or a kernel that detaches late).
 */
export async function detachAsync(target: string, background: (done: Promise<boolean>) => void, detachWaitMs = 5000): Promise<void> {
  const before = mountsAt(target);
  const done = umountAsync(target);
  background(done);
  let settled = false;
  void done.then(() => (settled = true), () => (settled = true));
  for (const t0 = Date.now(); !settled && Date.now() - t0 < detachWaitMs; ) {
    if (mountsAt(target) < before) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  await done;
}

/**
 * unmountAllUnder without waiting for the syncs: each mount is detached off the event
 * loop (detachAsync), deepest first. `background` gets every umount2's outcome.
 */
export async function unmountAllUnderAsync(dir: string, background: (done: Promise<boolean>) => void = () => undefined): Promise<void> {
  for (let round = 0; round < 8; round++) {
    const mps = mountsUnder(dir);
    if (mps.length === 0) return;
    for (const mp of mps) await detachAsync(mp, background);
  }
}
