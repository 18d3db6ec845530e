// Images vnode builds from Debian packages on this machine: busybox (busybox-static) and
// pause (catatonit, whose `-P` mode behaves as pause). Archives are cached in a directory,
// keyed by a hash of their inputs, and imported with `ctr -n k8s.io images import`.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOciArchive, type ImageArchiveInfo, type ImageSpec } from './image-archive.js';
import type { TarEntry } from './image-tar.js';

/** Bump when the archive layout produced here changes, so cached archives are rebuilt. */
const BUILDER_VERSION = 4; // 4: manifest.json for docker load

export const DEFAULT_BUSYBOX = '/bin/busybox';
export const DEFAULT_CATATONIT = '/usr/bin/catatonit';

export interface ImageArchive extends ImageArchiveInfo {
  /** Path of the tar (OCI image layout) to hand to `ctr images import`. */
  path: string;
}

export class LocalImageError extends Error {
  override name = 'LocalImageError';
  constructor(
    message: string,
    /** VNODE_IMAGE_PREREQUISITE_MISSING (a host binary the image is built from), VNODE_IMAGE_BUILD_FAILED (tar, debootstrap) or VNODE_IMAGE_IMPORT_FAILED. */
    readonly code: 'VNODE_IMAGE_PREREQUISITE_MISSING' | 'VNODE_IMAGE_IMPORT_FAILED' | 'VNODE_IMAGE_BUILD_FAILED' = 'VNODE_IMAGE_PREREQUISITE_MISSING',
  ) {
    super(message);
  }
}

/** Writes the archive under cacheDir (keyed by a hash of its inputs) unless it is already there. */
export function cachedArchive(cacheDir: string, name: string, inputsKey: string, build: () => ImageSpec): ImageArchive {
  mkdirSync(cacheDir, { recursive: true });
  const key = createHash('sha256').update(`${BUILDER_VERSION}\0${inputsKey}`).digest('hex').slice(0, 16);
  const path = join(cacheDir, `${name}-${key}.tar`);
  const metaPath = `${path}.json`;
  if (existsSync(path) && existsSync(metaPath)) {
    return { ...(JSON.parse(readFileSync(metaPath, 'utf8')) as ImageArchiveInfo), path };
  }
  const { archive, ...meta } = buildOciArchive(build(), `vnode: local ${name} image`);
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, archive);
  renameSync(tmp, path);
  writeFileSync(metaPath, JSON.stringify(meta));
  return { ...meta, path };
}

/** A cache key part for an input file: its path and content hash. */
export const fileKey = (p: string) => `${p}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\n';

/** The layer of a busybox image: /bin/busybox, every applet as a symlink, /etc/passwd and /etc/group. */
export function busyboxLayer(busybox: string): TarEntry[] {
  const applets = execFileSync(busybox, ['--list-full'], { encoding: 'utf8' })
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'bin/busybox');
  const dirs = new Set(['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'etc', 'root', 'tmp', 'var', 'var/tmp', 'proc', 'sys', 'dev', 'home']);
  for (const a of applets) {
    const parts = a.split('/');
    for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  const layer: TarEntry[] = [...dirs]
    .sort()
    .map((d) => ({ type: 'dir' as const, path: d, mode: d === 'tmp' || d === 'var/tmp' ? 0o1777 : d === 'root' ? 0o700 : 0o755 }));
  layer.push({ type: 'file', path: 'bin/busybox', data: readFileSync(busybox), mode: 0o755 });
  for (const a of applets.sort()) layer.push({ type: 'symlink', path: a, target: '/bin/busybox' });
  layer.push({ type: 'file', path: 'etc/passwd', data: PASSWD, mode: 0o644 });
  layer.push({ type: 'file', path: 'etc/group', data: GROUP, mode: 0o644 });
  return layer;
}

/** A busybox image from Debian's busybox-static (static, so it runs in an image of its own). */
export function busyboxImage(cacheDir: string, ref: string, busybox = DEFAULT_BUSYBOX): ImageArchive {
  requireStaticBusybox(busybox);
  return cachedArchive(cacheDir, 'busybox', `${ref}\0${fileKey(busybox)}`, () => ({ ref, layer: busyboxLayer(busybox), cmd: ['sh'] }));
}

/** Throws with what to install unless `busybox` exists and is static (it runs alone in an image). */
export function requireStaticBusybox(busybox: string): void {
  if (!existsSync(busybox)) throw new LocalImageError(`${busybox} is missing: install Debian's busybox-static (apt-get install busybox-static)`);
  // A dynamic executable names its loader (PT_INTERP) near the start of the file.
  if (readFileSync(busybox).subarray(0, 4096).includes('/ld-linux')) {
    throw new LocalImageError(`${busybox} is dynamically linked and cannot run alone in an image: install busybox-static (apt-get install busybox-static)`);
  }
}

/** A pause image from Debian's static catatonit: `/catatonit -P` behaves as pause. */
export function pauseImage(cacheDir: string, ref: string, catatonit = DEFAULT_CATATONIT): ImageArchive {
  if (!existsSync(catatonit)) throw new LocalImageError(`${catatonit} is missing: install Debian's catatonit (apt-get install catatonit)`);
  return cachedArchive(cacheDir, 'pause', `${ref}\0${fileKey(catatonit)}`, () => ({
    ref,
    layer: [{ type: 'file', path: 'catatonit', data: readFileSync(catatonit), mode: 0o755 }],
    entrypoint: ['/catatonit', '-P'],
    user: '65535:65535',
  }));
}

/** Anything that runs `ctr` against one containerd: ctr('-n', 'k8s.io', 'images', 'ls'). */
export type CtrRunner = (...args: string[]) => Promise<string>;

/** Imports an archive into the k8s.io namespace and checks that the image got its name. */
export async function importImage(ctr: CtrRunner, image: ImageArchive): Promise<void> {
  await ctr('-n', 'k8s.io', 'images', 'import', image.path);
  const names = (await ctr('-n', 'k8s.io', 'images', 'ls', '-q')).split('\n').map((s) => s.trim());
  if (!names.includes(image.ref)) {
    throw new LocalImageError(`ctr images import of ${image.path} did not create ${image.ref}; images: ${names.filter(Boolean).join(', ')}`, 'VNODE_IMAGE_IMPORT_FAILED');
  }
}
