// The test images: busybox and pause built locally (no registry) by the product's own
// image builder (src/oci/image-*.ts), cached under .cache/images, imported into
// containerd's k8s.io namespace.
import * as local from '../../src/oci/image-local.js';
import type { ImageArchive, CtrRunner } from '../../src/oci/image-local.js';
import { imagesCacheDir } from './paths.js';

export { buildOciArchive, type ImageSpec } from '../../src/oci/image-archive.js';
export { importImage, type ImageArchive, type CtrRunner } from '../../src/oci/image-local.js';

export const BUSYBOX_IMAGE = 'localhost/vnode-test/busybox:latest';
export const PAUSE_IMAGE = 'localhost/vnode-test/pause:3.9';

/** busybox from Debian's busybox-static: /bin/busybox, every applet as a symlink, /etc/passwd and /etc/group. */
export function busyboxImage(ref = BUSYBOX_IMAGE, busybox = '/bin/busybox'): ImageArchive {
  return local.busyboxImage(imagesCacheDir, ref, busybox);
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
