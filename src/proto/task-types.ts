// containerd.task.v2 (proto/containerd/task/v2/shim.proto) and containerd.v1.types,
// as generated in gen/. Requests arrive fully populated (proto3 defaults filled in);
// message fields are optional. Only the friendly enum names are written here.
import { ExitReason as GenExitReason, Status } from './gen/containerd/types/task/task.js';
import { TaskDefinition } from './gen/containerd/task/v2/shim.js';

export type {
  CheckpointTaskRequest,
  CloseIORequest,
  ConnectRequest,
  ConnectResponse,
  CreateTaskRequest,
  CreateTaskResponse,
  DeleteRequest,
  DeleteResponse,
  ExecProcessRequest,
  KillRequest,
  PauseRequest,
  PidsRequest,
  PidsResponse,
  ResizePtyRequest,
  ResumeRequest,
  ShutdownRequest,
  StartRequest,
  StartResponse,
  StateRequest,
  StateResponse,
  StatsRequest,
  StatsResponse,
  UpdateTaskRequest,
  WaitRequest,
  WaitResponse,
} from './gen/containerd/task/v2/shim.js';
export { TaskDefinition } from './gen/containerd/task/v2/shim.js';
export type { Mount } from './gen/containerd/types/mount.js';
export type { ProcessInfo } from './gen/containerd/types/task/task.js';
export type { RuntimeInfo, RuntimeVersion } from './gen/containerd/types/introspection.js';

export const TASK_SERVICE: string = TaskDefinition.fullName;

/** containerd.v1.types.Status */
export const TaskStatus = {
  Unknown: Status.UNKNOWN,
  Created: Status.CREATED,
  Running: Status.RUNNING,
  Stopped: Status.STOPPED,
  Paused: Status.PAUSED,
  Pausing: Status.PAUSING,
} as const;
export type TaskStatus = Status;

/** containerd.v1.types.ExitReason */
export const ExitReason = {
  None: GenExitReason.NONE,
  OomKilled: GenExitReason.OOMKILLED,
  Signaled: GenExitReason.SIGNALED,
} as const;
export type ExitReason = GenExitReason;

/** google.protobuf.Empty */
export type Empty = Record<string, never>;
