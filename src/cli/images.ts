// Images for `vnode run`: never pulled (no registry); they must be in containerd's k8s.io
// namespace already. The one exception is the README's demo image: `busybox`, built from
// Debian's busybox-static and imported automatically into vnode's OWN containerd (never
// into a containerd the user named: there it takes `vnode image build-busybox`).
import type { CriClient } from '../k8s/cri/index.js';
import { busyboxImage, importImage, DEFAULT_BUSYBOX, LocalImageError } from '../oci/index.js';
import type { CtrRunner } from '../oci/index.js';
import { CliError, CliErrorCode } from './errors.js';
import type { SelectedContainerd } from './containerd-select.js';
import type { Progress } from './output.js';

export const BUSYBOX_REF = 'docker.io/library/busybox:latest';

/** Does this reference name Docker Hub's busybox:latest ("busybox", "library/busybox:latest", ...)? */
export function isBusyboxRef(ref: string): boolean {
  return /^(?:(?:docker\.io\/)?library\/)?busybox(?::latest)?$/.test(ref) || ref === 'docker.io/busybox' || ref === 'docker.io/busybox:latest';
}

/** Builds the busybox image from Debian's busybox-static and imports it as docker.io/library/busybox:latest. */
export async function buildBusybox(ctr: CtrRunner, imagesDir: string, progress: Progress, busybox = DEFAULT_BUSYBOX, ref = BUSYBOX_REF): Promise<string> {
  progress(`building image ${ref} from ${busybox} (Debian's busybox-static)…`);
  let archive;
  try {
    archive = busyboxImage(imagesDir, ref, busybox);
  } catch (err) {
    if (err instanceof LocalImageError) throw new CliError(`cannot build the busybox image: ${err.message}`);
    throw err;
  }
  progress(`importing image ${ref}…`);
  await importImage(ctr, archive);
  return ref;
}

/** CRI's image store learns of an image `ctr images import` created through an event, a moment later. */
export async function waitForImage(cri: CriClient, image: string, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if ((await cri.imageStatus(image)).image) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Checks that every image is present; builds busybox into vnode's own containerd when missing. */
export async function ensureImages(cri: CriClient, images: string[], sel: SelectedContainerd, progress: Progress): Promise<void> {
  for (const image of [...new Set(images)]) {
    const st = await cri.imageStatus(image);
    if (st.image) continue;
    if (isBusyboxRef(image) && sel.local) {
      await buildBusybox(sel.local.ctr, sel.local.paths.imagesDir, progress);
      if (await waitForImage(cri, image)) continue;
    }
    const hint = isBusyboxRef(image)
      ? `build it from Debian's busybox-static with: vnode image build-busybox --containerd ${sel.address}`
      : `import it with: ctr --address ${sel.address} -n k8s.io images import IMAGE.tar (e.g. from docker save / skopeo copy … oci-archive:IMAGE.tar)`;
    throw new CliError(`image "${image}" is not present in containerd at ${sel.address} (vnode run never pulls: no registry); ${hint}`, CliErrorCode.imageNotFound);
  }
}
