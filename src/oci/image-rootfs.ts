// An OCI image archive from a root filesystem directory (a debootstrap tree of hundreds of
// MB): the layer is written by tar(1) to disk and hashed as a stream, never held in memory,
// and left uncompressed (gzip would cost more time than the import saves, locally). Same
// layout as buildOciArchive: index.json for `ctr images import`, manifest.json for
// `docker load`.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, mkdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dockerManifest, goArch, imageConfig, sha256, type RunConfig } from './image-archive.js';
import { LocalImageError } from './image-local.js';
import type { ImageArchiveInfo } from './image-archive.js';

export interface RootfsImageSpec extends RunConfig {
  ref: string;
}

async function sha256File(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return `sha256:${h.digest('hex')}`;
}

function tar(args: string[], what: string): void {
  const r = spawnSync('tar', args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
  if (r.error || r.status !== 0) {
    throw new LocalImageError(`tar ${what} failed: ${r.error?.message ?? r.stderr.trim().split('\n').slice(-3).join('; ')}`, 'VNODE_IMAGE_BUILD_FAILED');
  }
}

/** Writes `out` (a tar of an OCI layout) with `rootfs` as its single, uncompressed layer. */
export async function rootfsArchive(rootfs: string, out: string, spec: RootfsImageSpec): Promise<ImageArchiveInfo> {
  const work = `${out}.${process.pid}.d`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'blobs', 'sha256'), { recursive: true });
  try {
    const layerTmp = join(work, 'layer.tar');
    // numeric owners and xattrs (file capabilities: ping, newuidmap) as they are on disk
    tar(['--numeric-owner', '--xattrs', '--xattrs-include=*', '-C', rootfs, '-cf', layerTmp, '.'], `of ${rootfs}`);
    const layerDigest = await sha256File(layerTmp);
    const layerSize = statSync(layerTmp).size;
    renameSync(layerTmp, join(work, 'blobs', 'sha256', layerDigest.slice(7)));
    const blob = (data: Buffer): string => {
      const d = sha256(data);
      writeFileSync(join(work, 'blobs', 'sha256', d.slice(7)), data);
      return d;
    };
    const config = Buffer.from(JSON.stringify(imageConfig(spec, layerDigest, 'vnode: image from a Debian root filesystem')));
    const configDigest = blob(config);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerDigest, size: layerSize }],
    }));
    const manifestDigest = blob(manifest);
    const tag = spec.ref.slice(spec.ref.lastIndexOf(':') + 1);
    writeFileSync(join(work, 'index.json'), JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.index.v1+json',
      manifests: [{
        mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestDigest, size: manifest.length,
        platform: { architecture: goArch(), os: 'linux' },
        annotations: { 'io.containerd.image.name': spec.ref, 'org.opencontainers.image.ref.name': tag },
      }],
    }));
    writeFileSync(join(work, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    writeFileSync(join(work, 'manifest.json'), JSON.stringify(dockerManifest(spec.ref, configDigest, [layerDigest])));
    tar(['-C', work, '-cf', `${out}.tmp`, 'oci-layout', 'index.json', 'manifest.json', 'blobs'], `of the layout ${work}`);
    renameSync(`${out}.tmp`, out);
    return { ref: spec.ref, manifestDigest, configDigest, layerDigest, diffId: layerDigest };
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(`${out}.tmp`, { force: true });
  }
}
