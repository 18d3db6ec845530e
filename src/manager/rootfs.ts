// ID-mapped root filesystems. An overlay mount itself cannot be ID-mapped, so each
// lower layer gets an ID-mapped clone, the (fresh, empty) upper and work directories
// are handed to the vNode's root, and overlay is mounted over them by host root.
// Image layers are never chowned or copied.
import { rm } from 'node:fs/promises';
import { chownSync, existsSync, mkdirSync, realpathSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { SyscallError } from '../sys/index.js';
import { idmapBind, mount, MS_BIND, MS_REC, overlayMountOf, unmountAllUnder, unmountAllUnderAsync } from '../sys/index.js';
import { placeTmpfsPodFile, stopMirrorsUnder, type TmpfsFallbackKind, type TmpfsFallbackOptions, type TmpfsIdmapMode } from './pod-tmpfs/fallback.js';
import type { MirrorRecord } from './pod-tmpfs/mirror.js';

export interface RootfsMount {
  type: string;
  source: string;
  options: string[];
}

export class RootfsError extends Error {
  override name = 'RootfsError';
  readonly code = 'VNODE_ROOTFS_FAILED';
}

export interface RootfsPlan {
  /** Where the container's root ends up. */
  target: string;
  /** Scratch directory for the ID-mapped layer clones. */
  scratch: string;
  usernsFile: string;
  rootId: number;
  /** Layers whose root is owned by `uid` (an image containerd 1.7 chowned) are mapped with `usernsFile` instead. */
  chowned?: { uid: number; usernsFile: string };
}

/** The range a pod's own user namespace asked for (hostUsers: false): container root is host ID `uid`. */
export interface AskedIdRange {
  uid: number;
  gid: number;
  size: number;
}

/**
 * containerd 1.7 gives a hostUsers: false pod an image chowned to the range kubelet chose
 * (a copy of the layers, committed as their new top) where 2.x asks the shim to ID-map
 * the layers instead (uidmap= options). The vNode's own mapping would show such files as
 * nobody: returns the range when the rootfs is laid out that way, for its layers to be
 * mapped from that range into the vNode's.
 */
export function chownedImageOf(mounts: RootfsMount[], asked: AskedIdRange | undefined): AskedIdRange | undefined {
  if (!asked || asked.uid === 0 || mounts.length !== 1) return undefined;
  const m = mounts[0]!;
  if (m.options.some((o) => o.startsWith('uidmap=') || o.startsWith('gidmap='))) return undefined;
  const roots = m.type === 'overlay' ? (optionValue(m.options, 'lowerdir') ?? '').split(':').filter(Boolean) : [m.source];
  const ownedByAsked = (dir: string) => { try { return statSync(dir).uid === asked.uid; } catch { return false; } };
  return roots.some(ownedByAsked) ? asked : undefined;
}

function optionValue(options: string[], key: string): string | undefined {
  const o = options.find((x) => x.startsWith(`${key}=`));
  return o?.slice(key.length + 1);
}

export function mountRootfs(mounts: RootfsMount[], p: RootfsPlan): void {
  if (mounts.length !== 1) {
    throw new RootfsError(`expected exactly one rootfs mount from containerd's snapshotter, got ${mounts.length}; vnode supports the overlayfs and native snapshotters`);
  }
  const m = mounts[0]!;
  mkdirSync(p.target, { recursive: true });
  mkdirSync(p.scratch, { recursive: true, mode: 0o700 });
  try {
    const usernsOf = (layer: string) => (p.chowned && statSync(layer).uid === p.chowned.uid ? p.chowned.usernsFile : p.usernsFile);
    if (m.type === 'bind' || m.type === 'rbind') {
      idmapBind(m.source, p.target, usernsOf(m.source));
      if (m.options.includes('ro')) mount(null, p.target, null, MS_BIND | MS_REMOUNT | MS_RDONLY);
      return;
    }
    if (m.type !== 'overlay') throw new RootfsError(`rootfs mount type "${m.type}" is not supported; use the overlayfs or native snapshotter`);
    const lowers = (optionValue(m.options, 'lowerdir') ?? '').split(':').filter(Boolean);
    if (lowers.length === 0) throw new RootfsError('overlay rootfs without lowerdir');
    const mapped = lowers.map((lower, i) => {
      const t = join(p.scratch, `l${i}`);
      mkdirSync(t, { recursive: true });
      idmapBind(lower, t, usernsOf(lower));
      return t;
    });
    const upper = optionValue(m.options, 'upperdir');
    const work = optionValue(m.options, 'workdir');
    for (const dir of [upper, work]) if (dir) chownSync(dir, p.rootId, p.rootId);
    // uidmap=/gidmap= (containerd 2.x's overlay snapshotter for a hostUsers: false pod,
    // asking the shim to ID-map the layers to the range kubelet chose): every layer is
    // ID-mapped into the vNode above, whose range the pod runs in instead; overlayfs
    // itself would refuse the options (EINVAL).
    const rest = m.options.filter((o) => !o.startsWith('lowerdir=') && !o.startsWith('uidmap=') && !o.startsWith('gidmap='));
    mount('overlay', p.target, 'overlay', 0, [`lowerdir=${mapped.join(':')}`, ...rest].join(','));
  } catch (e) {
    unmountRootfs(p);
    throw e;
  }
}

export function unmountRootfs(p: Pick<RootfsPlan, 'target' | 'scratch'>): void {
  unmountAllUnder(p.target);
  // a mirror's watch must not outlive the tmpfs it writes to
  stopMirrorsUnder(p.scratch);
  if (existsSync(p.scratch)) {
    unmountAllUnder(p.scratch);
    rmSync(p.scratch, { recursive: true, force: true });
  }
}

/**
 * unmountRootfs for a task's delete, off the event loop. It returns once every mount is
 * detached and the scratch directory is gone; the sync that the overlay's last unmount
 * does (umountAsync) goes on in the background and ends in `background`. A delete that
 * waited for it took 35-41 s per task after Docker-in-Docker in the v2 guest, and
 * StopPodSandbox ran out of its 120 s.
 */
export async function unmountRootfsAsync(p: Pick<RootfsPlan, 'target' | 'scratch'>, background: (done: Promise<boolean>) => void): Promise<void> {
  await unmountAllUnderAsync(p.target, background);
  stopMirrorsUnder(p.scratch);
  if (existsSync(p.scratch)) {
    await unmountAllUnderAsync(p.scratch, background);
    await rm(p.scratch, { recursive: true, force: true });
  }
}

const TMPFS_MAGIC = 0x01021994;
const EINVAL = 22;

/**
 * Linux before 6.3 cannot ID-map tmpfs (mount_setattr says EINVAL): there a pod file on
 * tmpfs (/dev/shm, secrets, projected tokens, emptyDir medium Memory) is given to the
 * container another way (pod-tmpfs/fallback.ts).
 */
export function plainBindInstead(err: unknown, fsType: number | bigint): boolean {
  return err instanceof SyscallError && err.syscall === 'mount_setattr' && err.errno === EINVAL && Number(fsType) === TMPFS_MAGIC;
}

export function isTmpfs(path: string): boolean {
  return Number(statfsSync(path).type) === TMPFS_MAGIC;
}

/** How a pod file on tmpfs is placed where ID-mapping it fails or is turned off. */
export interface PodFileFallback extends TmpfsFallbackOptions {
  mode: TmpfsIdmapMode;
}

export type PodFileMount = 'idmapped' | 'plain' | 'layers' | TmpfsFallbackKind;

const OVERLAYFS_MAGIC = 0x794c7630;
const MS_RDONLY = 0x1;
const MS_REMOUNT = 0x20;

/**
 * A pod file on an overlay (containerd 2.1's image volumes: an image's layers) for the
 * container, read-only. An overlay cannot be ID-mapped (EINVAL), so each
 * layer gets an ID-mapped clone next to `target` and a read-only overlay of the clones is
 * mounted there; with one layer, or a file, the topmost layer that has it is bound.
 * A subdirectory of the overlay (image_sub_path) is taken from each layer that has it,
 * down to one where it is a whiteout (an opaque directory in a layer is not honoured).
 */
function idmapOverlayLayers(source: string, target: string, isDir: boolean, usernsFile: string, readonly: boolean): void {
  const real = realpathSync(source);
  const o = overlayMountOf(real);
  if (!o || o.lowers.length === 0) throw new RootfsError(`mount source ${source} is on an overlay whose layers cannot be read from the mount table`);
  if (o.upper && !o.readonly && !readonly) throw new RootfsError(`mount source ${source} is a writable overlay (upperdir ${o.upper}); vnode can give a container an overlay's layers read-only (an image volume), not writable: mount it read-only or use a directory instead`);
  const rel = relative(o.mountPoint, real);
  const layers: string[] = [];
  // containerd 2.1 mounts an image volume as an active snapshot (writable, and never
  // written) and gives the container a read-only bind: its empty upper is one more layer
  for (const lower of o.upper ? [o.upper, ...o.lowers] : o.lowers) {
    const p = join(lower, rel);
    let st;
    try { st = statSync(p); } catch { continue; }
    if (st.isCharacterDevice() && st.rdev === 0) break; // a whiteout: deleted in this layer
    layers.push(p);
    if (!isDir) break;
  }
  if (layers.length === 0) throw new RootfsError(`mount source ${source}: no layer of its overlay has ${rel || '/'}`);
  if (layers.length === 1) {
    idmapBind(layers[0]!, target, usernsFile);
    mount(null, target, null, MS_BIND | MS_REMOUNT | MS_RDONLY);
    return;
  }
  const scratch = `${target}.layers`;
  mkdirSync(scratch, { mode: 0o700 });
  const clones = layers.map((layer, i) => {
    const t = join(scratch, `l${i}`);
    mkdirSync(t);
    idmapBind(layer, t, usernsFile);
    return t;
  });
  mount('overlay', target, 'overlay', MS_RDONLY, `lowerdir=${clones.join(':')}`);
}

/**
 * An ID-mapped clone of a kubelet/containerd pod file or directory at `target`. Where
 * tmpfs cannot be ID-mapped: with `fallback`, mirrored, chowned or copied so the vNode's
 * root owns what host root owns; without, bound as it is (host root's files then show as
 * nobody). Returns how it was mounted, and a mirror to watch again after a restart.
 */
export function idmapPodFile(source: string, target: string, usernsFile: string, fallback?: PodFileFallback): { how: PodFileMount; mirror?: MirrorRecord } {
  let isDir: boolean;
  try {
    isDir = statSync(source).isDirectory();
  } catch {
    throw new RootfsError(`mount source ${source} does not exist`);
  }
  if (isDir) mkdirSync(target, { recursive: true });
  else writeFileSync(target, '', { flag: 'a' });
  const placeInstead = (f: PodFileFallback) => {
    const r = placeTmpfsPodFile(source, target, f);
    return { how: r.kind, ...(r.mirror ? { mirror: r.mirror } : {}) };
  };
  if (fallback?.mode === 'off' && isTmpfs(source)) return placeInstead(fallback);
  if (Number(statfsSync(source).type) === OVERLAYFS_MAGIC) {
    idmapOverlayLayers(source, target, isDir, usernsFile, fallback?.readonly ?? false);
    return { how: 'layers' };
  }
  try {
    idmapBind(source, target, usernsFile);
    return { how: 'idmapped' };
  } catch (e) {
    if (!plainBindInstead(e, statfsSync(source).type)) throw e;
    if (fallback) return placeInstead(fallback);
    mount(source, target, null, MS_BIND | MS_REC);
    return { how: 'plain' };
  }
}

/** Creates a hostPath location inside the vNode's private root, owned by the vNode's root. */
export function ensureHostPath(root: string, path: string, hostSource: string, rootId: number): void {
  if (existsSync(path)) return;
  let wantFile = false;
  try {
    wantFile = statSync(hostSource).isFile();
  } catch {
    /* absent on the host: a directory, like DirectoryOrCreate */
  }
  const rel = path.slice(root.length).split('/').filter(Boolean);
  let cur = root;
  for (let i = 0; i < rel.length; i++) {
    cur = join(cur, rel[i]!);
    if (existsSync(cur)) continue;
    if (i === rel.length - 1 && wantFile) writeFileSync(cur, '');
    else mkdirSync(cur);
    chownSync(cur, rootId, rootId);
  }
}
