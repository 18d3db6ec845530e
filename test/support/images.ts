// The test images: busybox and pause built locally (no registry) by the product's own
// image builder (src/oci/image-*.ts), cached under .cache/images, imported into
// containerd's k8s.io namespace.
import * as local from '../../src/oci/image-local.js';
import type { ImageArchive, CtrRunner } from '../../src/oci/image-local.js';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheDir, imagesCacheDir, repoRoot } from './paths.js';

export { buildOciArchive, type ImageSpec } from '../../src/oci/image-archive.js';
export { importImage, type ImageArchive, type CtrRunner } from '../../src/oci/image-local.js';

export const BUSYBOX_IMAGE = 'localhost/vnode-test/busybox:latest';
export const PAUSE_IMAGE = 'localhost/vnode-test/pause:3.9';

/**
 * busybox from Debian's busybox-static (/bin/busybox, every applet as a symlink,
 * /etc/passwd and /etc/group), plus /bin/syscall-probe (test/support/native), which
 * tries syscalls busybox has no applet for and prints the errno each gives.
 */
export function busyboxImage(ref = BUSYBOX_IMAGE, busybox = '/bin/busybox'): ImageArchive {
  local.requireStaticBusybox(busybox);
  const probe = syscallProbe();
  return local.cachedArchive(imagesCacheDir, 'busybox-probe', `${ref}\0${local.fileKey(busybox)}\0${local.fileKey(probe)}`, () => ({
    ref,
    layer: [...local.busyboxLayer(busybox), { type: 'file', path: 'bin/syscall-probe', data: readFileSync(probe), mode: 0o755 }],
    cmd: ['sh'],
  }));
}

/**
 * Builds test/support/native/syscall-probe.c (static) into .cache when its source
 * changed; `i386` builds it for the 32-bit ABI (gcc-multilib), whose syscall numbers the
 * seccomp filter has a table of its own for.
 */
export function syscallProbe(abi: 'native' | 'i386' = 'native'): string {
  const src = join(repoRoot, 'test/support/native/syscall-probe.c');
  const out = join(cacheDir, 'native', `syscall-probe${abi === 'i386' ? '-i386' : ''}-${createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 12)}`);
  if (!existsSync(out)) {
    mkdirSync(dirname(out), { recursive: true });
    const flags = abi === 'i386' ? ['-m32'] : [];
    execFileSync('cc', [...flags, '-O2', '-Wall', '-Wextra', '-Werror', '-static', '-o', `${out}.tmp`, src], { stdio: 'inherit' });
    renameSync(`${out}.tmp`, out);
  }
  return out;
}

/** pause from Debian's static catatonit: `/catatonit -P` behaves as pause. */
export function pauseImage(ref = PAUSE_IMAGE, catatonit = '/usr/bin/catatonit'): ImageArchive {
  return local.pauseImage(imagesCacheDir, ref, catatonit);
}

/** Builds (or reuses) the busybox and pause archives and imports both. */
export async function importTestImages(ctr: CtrRunner): Promise<{ busybox: ImageArchive; pause: ImageArchive }> {
  const busybox = busyboxImage();
  const pause = pauseImage();
  await local.importImage(ctr, pause);
  await local.importImage(ctr, busybox);
  return { busybox, pause };
}
