// Builds OCI image archives locally (no registry) and imports them into containerd.
//
// An archive is a tar of an OCI image layout:
//   oci-layout                      {"imageLayoutVersion":"1.0.0"}
//   index.json                      one manifest descriptor, annotated with the image name
//   blobs/sha256/<config|manifest|layer>
// The manifest's annotation carries both `io.containerd.image.name` (the full reference:
// what `ctr images import` names the image with on 1.6, 1.7 and 2.x) and
// `org.opencontainers.image.ref.name` (the tag, per the OCI spec).
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildTar, type TarEntry } from './tar.js';
import { imagesCacheDir } from './paths.js';

export const BUSYBOX_IMAGE = 'localhost/vnode-test/busybox:latest';
export const PAUSE_IMAGE = 'localhost/vnode-test/pause:3.9';

/** Bump when the archive layout produced here changes, so cached archives are rebuilt. */
const BUILDER_VERSION = 3;

export interface ImageSpec {
  /** Full reference, e.g. localhost/vnode-test/busybox:latest */
  ref: string;
  /** Files of the single layer. Parent directories must be listed before their children. */
  layer: TarEntry[];
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  /** Replaces the manifest descriptor's annotations in index.json (default: both name annotations). */
  indexAnnotations?: Record<string, string>;
}

export interface ImageArchive {
  ref: string;
  /** Path of the tar (OCI image layout) to hand to `ctr images import`. */
  path: string;
  manifestDigest: string;
  configDigest: string;
  layerDigest: string;
  /** sha256 of the uncompressed layer (the config's rootfs.diff_ids[0]). */
  diffId: string;
}

const sha256 = (b: Buffer | string) => 'sha256:' + createHash('sha256').update(b).digest('hex');

/** Builds the OCI layout in memory and returns the archive bytes and digests. */
export function buildOciArchive(spec: ImageSpec): { archive: Buffer } & Omit<ImageArchive, 'path'> {
  const layerTar = buildTar(spec.layer);
  const diffId = sha256(layerTar);
  const layerGz = gzipSync(layerTar, { level: 6 });
  const layerDigest = sha256(layerGz);
  const config = {
    created: '1970-01-01T00:00:00Z',
    architecture: goArch(),
    os: 'linux',
    config: {
      Env: spec.env ?? ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
      ...(spec.cmd ? { Cmd: spec.cmd } : {}),
      WorkingDir: spec.workingDir ?? '/',
      ...(spec.user ? { User: spec.user } : {}),
      ...(spec.labels ? { Labels: spec.labels } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: 'vnode test/support/images.ts' }],
  };
  const configJson = Buffer.from(JSON.stringify(config));
  const configDigest = sha256(configJson);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: configJson.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layerDigest, size: layerGz.length }],
  };
  const manifestJson = Buffer.from(JSON.stringify(manifest));
  const manifestDigest = sha256(manifestJson);
  const tag = spec.ref.slice(spec.ref.lastIndexOf(':') + 1);
  const index = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.index.v1+json',
    manifests: [
      {
        mediaType: manifest.mediaType,
        digest: manifestDigest,
        size: manifestJson.length,
        platform: { architecture: goArch(), os: 'linux' },
        annotations: spec.indexAnnotations ?? { 'io.containerd.image.name': spec.ref, 'org.opencontainers.image.ref.name': tag },
      },
    ],
  };
  const blob = (digest: string, data: Buffer): TarEntry => ({ type: 'file', path: `blobs/sha256/${digest.slice(7)}`, data });
  const archive = buildTar([
    { type: 'file', path: 'oci-layout', data: JSON.stringify({ imageLayoutVersion: '1.0.0' }) },
    { type: 'dir', path: 'blobs' },
    { type: 'dir', path: 'blobs/sha256' },
    blob(configDigest, configJson),
    blob(layerDigest, layerGz),
    blob(manifestDigest, manifestJson),
    { type: 'file', path: 'index.json', data: JSON.stringify(index) },
  ]);
  return { archive, ref: spec.ref, manifestDigest, configDigest, layerDigest, diffId };
}

function goArch(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
  return map[process.arch] ?? process.arch;
}

/** Writes the archive under .cache/images (keyed by a hash of its inputs) unless it is already there. */
function cachedArchive(name: string, inputsKey: string, build: () => ImageSpec): ImageArchive {
  mkdirSync(imagesCacheDir, { recursive: true });
  const key = createHash('sha256').update(`${BUILDER_VERSION}\0${inputsKey}`).digest('hex').slice(0, 16);
  const path = join(imagesCacheDir, `${name}-${key}.tar`);
  const metaPath = `${path}.json`;
  if (existsSync(path) && existsSync(metaPath)) {
    return { ...(JSON.parse(readFileSync(metaPath, 'utf8')) as Omit<ImageArchive, 'path'>), path };
  }
  const { archive, ...meta } = buildOciArchive(build());
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, archive);
  renameSync(tmp, path);
  writeFileSync(metaPath, JSON.stringify(meta));
  return { ...meta, path };
}

const fileKey = (p: string) => `${p}:${createHash('sha256').update(readFileSync(p)).digest('hex')}`;

const PASSWD = 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n';
const GROUP = 'root:x:0:\nnogroup:x:65534:\n';

/** busybox image from Debian's busybox-static: /bin/busybox, every applet as a symlink, /etc/passwd and /etc/group. */
export function busyboxImage(ref = BUSYBOX_IMAGE, busybox = '/bin/busybox'): ImageArchive {
  if (!existsSync(busybox)) throw new Error(`${busybox} missing: run scripts/setup-host.sh (busybox-static)`);
  return cachedArchive('busybox', `${ref}\0${fileKey(busybox)}`, () => {
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
    return { ref, layer, cmd: ['sh'] };
  });
}

/** pause image from Debian's static catatonit: `/catatonit -P` behaves as pause. */
export function pauseImage(ref = PAUSE_IMAGE, catatonit = '/usr/bin/catatonit'): ImageArchive {
  if (!existsSync(catatonit)) throw new Error(`${catatonit} missing: run scripts/setup-host.sh (catatonit)`);
  return cachedArchive('pause', `${ref}\0${fileKey(catatonit)}`, () => ({
    ref,
    layer: [{ type: 'file', path: 'catatonit', data: readFileSync(catatonit), mode: 0o755 }],
    entrypoint: ['/catatonit', '-P'],
    user: '65535:65535',
  }));
}

/** Anything that runs `ctr` against one containerd (see ContainerdInstance.ctr). */
export type CtrRunner = (...args: string[]) => Promise<string>;

/** Imports an archive into the k8s.io namespace and checks that the image got its name. */
export async function importImage(ctr: CtrRunner, image: ImageArchive): Promise<void> {
  await ctr('-n', 'k8s.io', 'images', 'import', image.path);
  const names = (await ctr('-n', 'k8s.io', 'images', 'ls', '-q')).split('\n').map((s) => s.trim());
  if (!names.includes(image.ref)) {
    throw new Error(`ctr images import of ${image.path} did not create ${image.ref}; images: ${names.filter(Boolean).join(', ')}`);
  }
}

/** Builds (or reuses) the busybox and pause archives and imports both. */
export async function importTestImages(ctr: CtrRunner): Promise<{ busybox: ImageArchive; pause: ImageArchive }> {
  const busybox = busyboxImage();
  const pause = pauseImage();
  await importImage(ctr, pause);
  await importImage(ctr, busybox);
  return { busybox, pause };
}
