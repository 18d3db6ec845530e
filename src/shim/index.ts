// Public surface of the shim component: the Task API contract the manager
// implements and serves, the event publisher, and the shim binary's helpers.
//
//   const server = new TtrpcServer({ onConnectionClose });   // from src/ttrpc
//   serveTaskApi(server, myTaskApi);                        // registers containerd.task.v2.Task
//   await server.listen(process.env[ManagerEnv.socket] ?? managerInstance(containerdAddress).socket);
//   const events = new EventPublisher({ address: ttrpcAddress });
//   events.publish('/tasks/exit', namespace, { containerId, id, pid, exitStatus, exitedAt });
//
// Implementations throw TaskError(Code.X, message); the ttrpc layer turns it into
// google.rpc.Status once, at the boundary.
export {
  serveTaskApi,
  taskClient,
  namespaceOf,
  TaskError,
  NAMESPACE_HEADER,
  TASK_RPCS,
  type TaskApi,
  type TaskContext,
  type TaskClient,
  type TaskRpc,
} from './task-api.js';
export { Code } from '../ttrpc/index.js';
export { EventPublisher, type EventPublisherOptions } from './events.js';
export { managerInstance, instanceId, ManagerEnv, DEFAULT_RUN_DIR, type ManagerInstance } from './instance.js';
export { ensureManager, ping as pingManager, shimAddress, MANAGER_NODE_FLAGS } from './start.js';
