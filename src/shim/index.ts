// Public surface of the shim component (the `containerd-shim-vnode-v2` binary): where
// the one manager of a containerd instance lives, and making sure it runs. The Task
// API it points containerd at is src/taskapi.
//
//   const inst = managerInstance(containerdAddress);   // socket, pid file, run dir
//   const address = await ensureManager(args);         // starts vnode-manager if needed
export { managerInstance, instanceId, ManagerEnv, DEFAULT_RUN_DIR, type ManagerInstance } from './instance.js';
export { ensureManager, ping as pingManager, MANAGER_NODE_FLAGS } from './start.js';
export { parseArgs, UsageError, type ShimArgs } from './args.js';
