// Public surface of the Task API component: containerd's task v2 contract (also served
// as task v3, its copy for containerd 2.x's shim protocol 3) as the
// manager serves it (a dispatch table over the generated service definition), the
// error table that turns coded errors into gRPC statuses once, at the boundary, and
// the publisher of task events to containerd. Only the manager serves it; the shim
// binary and tests use its client.
//
//   const server = new TtrpcServer({ onConnectionClose });   // from src/ttrpc
//   serveTaskApi(server, myTaskApi);                        // registers containerd.task.v2.Task and .v3.Task
//   const events = new EventPublisher({ address: ttrpcAddress });
//   events.publish('/tasks/exit', namespace, { containerId, id, pid, exitStatus, exitedAt });
//
// Implementations throw errors with a stable `code` (ERROR_STATUS maps them to gRPC
// codes) or TaskError(Code.X, message); serveTaskApi converts them once, at the boundary.
export {
  serveTaskApi,
  taskClient,
  namespaceOf,
  TASK_SERVICE,
  TASK_SERVICE_V3,
  TaskError,
  NAMESPACE_HEADER,
  TASK_RPCS,
  type TaskApi,
  type TaskContext,
  type TaskClient,
  type TaskRpc,
} from './task-api.js';
export { Code } from '../ttrpc/index.js';
export { ERROR_STATUS, taskErrorOf, vnodeCodeOf } from './error-status.js';
export { EventPublisher, type EventPublisherOptions } from './events.js';
export { Tombstones } from './tombstones.js';
export { RuntimeOptionsError, binaryNameOfTable, runtimeOptionsBinaryName } from './runtime-options.js';
export { taskApiCalls, type TaskApiCall } from './diagnostics.js';
