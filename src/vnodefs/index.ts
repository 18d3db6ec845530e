// Public surface of vnodefs: mount it, add vNodes, get the bind mounts for a container.
export { VnodeFs, type MountOptions } from './vnodefs.js';
export type { SysinfoView } from './generators/sysinfo.js';
export type { VnodeSpec } from './vnode.js';
export type { CgroupLocation } from '../cgroup/index.js';
export { bindMountsFor, MASKED_DIRS, MASKED_PROC_FILES, type BindMount, type BindMountOptions } from './mounts.js';
export { VnodefsError, FS_TYPE } from './device.js';
export { vnodefsRequests, type VnodefsRequest } from './diagnostics.js';
