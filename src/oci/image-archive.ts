// Builds OCI image archives locally (no registry): the tar of an OCI image layout that
// `ctr images import` reads (and `docker load`, through manifest.json) (moved from test/support/images.ts so that product code —
// `vnode run`, `vnode image build-busybox` — can build the pause and busybox images).
//
//   oci-layout                      {"imageLayoutVersion":"1.0.0"}
//   index.json                      one manifest descriptor, annotated with the image name
//   manifest.json                   the same image for `docker load` (docker save's format)
//   blobs/sha256/<config|manifest|layer>
// The manifest's annotation carries both `io.containerd.image.name` (the full reference:
// what `ctr images import` names the image with on 1.6, 1.7 and 2.x) and
// `org.opencontainers.image.ref.name` (the tag, per the OCI spec).
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { buildTar, type TarEntry } from './image-tar.js';

export interface ImageSpec extends RunConfig {
  /** Full reference, e.g. docker.io/library/busybox:latest */
  ref: string;
  /** Files of the single layer. Parent directories must be listed before their children. */
  layer: TarEntry[];
  /** Replaces the manifest descriptor's annotations in index.json (default: both name annotations). */
  indexAnnotations?: Record<string, string>;
}

export interface ImageArchiveInfo {
  ref: string;
  manifestDigest: string;
  configDigest: string;
  layerDigest: string;
  /** sha256 of the uncompressed layer (the config's rootfs.diff_ids[0]). */
  diffId: string;
}

export const sha256 = (b: Buffer | string): string => 'sha256:' + createHash('sha256').update(b).digest('hex');

/** The Go architecture name of this machine (what image configs and platforms say). */
export function goArch(): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };
  return map[process.arch] ?? process.arch;
}

/**
 * `docker save`'s manifest.json over the same blobs, so that `docker load` (which reads
 * manifest.json, not index.json, before Docker 25) accepts the archive too: Docker-in-Docker
 * inside a vNode loads the busybox image it runs.
 */
export function dockerManifest(ref: string, configDigest: string, layerDigests: string[]): object[] {
  const blobPath = (d: string) => `blobs/sha256/${d.slice(7)}`;
  return [{ Config: blobPath(configDigest), RepoTags: [ref], Layers: layerDigests.map(blobPath) }];
}

/** What an image's config says about how to run it (OCI image config's `config` object). */
export interface RunConfig {
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  /** e.g. SIGRTMIN+3 for systemd: what containerd sends on StopContainer to end it cleanly. */
  stopSignal?: string;
}

/** The image config of a one-layer image (fixed creation time: the same inputs give the same digest). */
export function imageConfig(spec: RunConfig, diffId: string, createdBy: string): object {
  return {
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
      ...(spec.stopSignal ? { StopSignal: spec.stopSignal } : {}),
    },
    rootfs: { type: 'layers', diff_ids: [diffId] },
    history: [{ created: '1970-01-01T00:00:00Z', created_by: createdBy }],
  };
}

/** Builds the OCI layout in memory and returns the archive bytes and digests. */
export function buildOciArchive(spec: ImageSpec, createdBy = 'vnode'): { archive: Buffer } & ImageArchiveInfo {
  const layerTar = buildTar(spec.layer);
  const diffId = sha256(layerTar);
  const layerGz = gzipSync(layerTar, { level: 6 });
  const layerDigest = sha256(layerGz);
  const config = imageConfig(spec, diffId, createdBy);
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
    { type: 'file', path: 'manifest.json', data: JSON.stringify(dockerManifest(spec.ref, configDigest, [layerDigest])) },
  ]);
  return { archive, ref: spec.ref, manifestDigest, configDigest, layerDigest, diffId };
}
