// Public surface of sys: the Linux calls Node.js lacks (through koffi, loaded lazily on
// first use), mounts and the mount table, pidfds, network namespaces and netlink
// sockets, and /proc readers for processes.
export { pipe, setBlocking, writeFifoLine } from './fd.js';
export { ioctlU32Ptr, readNoThrow } from './fuse-dev.js';
export { SyscallError, errno, errnoName, libc } from './libc.js';
export { inNetns, netlinkRouteSocket, netlinkRouteSocketIn, recvDatagram, sendDatagram, sendDatagramAsync } from './netns.js';
export { MNT_DETACH, MS_BIND, MS_REC, idmapBind, mount, mountTable, mountsUnder, overlayMountOf, type OverlayMount, umount, detachAsync, umountAsync, unmountAllUnder, unmountAllUnderAsync } from './mount.js';
export { pidfdGetfd, pidfdOpen } from './pidfd.js';
export { throwawayUserns, type IdMapLine, type ThrowawayUserns } from './userns.js';
export { childrenOf, hasEffectiveCap, isAlive, livePidInFile, nsPids, startTimeOf } from './procfs.js';
