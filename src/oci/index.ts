// Public surface of oci: OCI runtime spec types and parsing, the pod identity in CRI's
// annotations, the spec planner (the only code that turns containerd's spec into the one
// the runtime gets), and local OCI images built from Debian's packages.
export { CONTAINER_NAME, SANDBOX_NAME, SANDBOX_NAMESPACE, SANDBOX_UID, VNODE_NAME_ANNOTATION, podIdentity, type PodIdentity } from './annotations.js';
export { DEFAULT_BUSYBOX, LocalImageError, busyboxImage, busyboxLayer, importImage, pauseImage, requireStaticBusybox, type CtrRunner } from './image-local.js';
export { buildOciArchive, type ImageArchiveInfo } from './image-archive.js';
export { rootfsArchive, type RootfsImageSpec } from './image-rootfs.js';
export { DEBIAN_IMAGES, INNER_BUSYBOX_ARCHIVE, INNER_BUSYBOX_REF, INNER_PAUSE_ARCHIVE, INNER_PAUSE_REF, debianImage, hostDebianMirror, type DebianImageName } from './image-debian.js';
export { type TarEntry } from './image-tar.js';
export { planExecProcess, planSpec, type Plan, type PlanInput, type VnodefsPlacement } from './planner.js';
export { parseSpec, type OciMount, type OciSpec } from './spec.js';
