// Public surface of the manager (vnode-manager): what the shim's dead-task cleanup, the
// CLI's ps/inspect and the installers need. The binary's entry is main.ts.
export { destroyDeadTask } from './cleanup.js';
export { helperPath } from './helpers.js';
export { type TaskRecord } from './task-store.js';
export { type VnodeRecord } from './vnode.js';
