// Plain TypeScript shapes of containerd.task.v2 (api/runtime/task/v2/shim.proto)
// and containerd.v1.types. Requests arrive fully populated (proto3 defaults filled
// in); in responses, fields marked optional may be left out.
import type { Any } from './codec.js';

export const TASK_SERVICE = 'containerd.task.v2.Task';

/** containerd.v1.types.Status */
export const TaskStatus = {
  Unknown: 0,
  Created: 1,
  Running: 2,
  Stopped: 3,
  Paused: 4,
  Pausing: 5,
} as const;
export type TaskStatus = (typeof TaskStatus)[keyof typeof TaskStatus];

/** containerd.v1.types.ExitReason */
export const ExitReason = {
  None: 0,
  OomKilled: 1,
  Signaled: 2,
} as const;
export type ExitReason = (typeof ExitReason)[keyof typeof ExitReason];

/** containerd.types.Mount */
export interface Mount {
  type: string;
  source: string;
  target: string;
  options: string[];
}

/** containerd.v1.types.ProcessInfo */
export interface ProcessInfo {
  pid: number;
  /** e.g. containerd.runc.v1.ProcessDetails { execId } for exec processes. */
  info?: Any;
}

export interface CreateTaskRequest {
  id: string;
  bundle: string;
  rootfs: Mount[];
  terminal: boolean;
  stdin: string;
  stdout: string;
  stderr: string;
  checkpoint: string;
  parentCheckpoint: string;
  /** Runtime options, e.g. containerd.runc.v1.Options. */
  options?: Any;
  oomPath: string;
}
export interface CreateTaskResponse {
  pid: number;
}

export interface DeleteRequest {
  id: string;
  execId: string;
}
export interface DeleteResponse {
  pid: number;
  exitStatus: number;
  exitedAt?: Date;
}

export interface ExecProcessRequest {
  id: string;
  execId: string;
  terminal: boolean;
  stdin: string;
  stdout: string;
  stderr: string;
  /** OCI runtime-spec Process as JSON, type URL "types.containerd.io/opencontainers/runtime-spec/1/Process". */
  spec?: Any;
}

export interface ResizePtyRequest {
  id: string;
  execId: string;
  width: number;
  height: number;
}

export interface StateRequest {
  id: string;
  execId: string;
}
export interface StateResponse {
  id: string;
  bundle: string;
  pid: number;
  status: TaskStatus;
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
  exitStatus: number;
  exitedAt?: Date;
  execId: string;
}

export interface KillRequest {
  id: string;
  execId: string;
  signal: number;
  all: boolean;
}

export interface CloseIORequest {
  id: string;
  execId: string;
  stdin: boolean;
}

export interface PidsRequest {
  id: string;
}
export interface PidsResponse {
  processes: ProcessInfo[];
}

export interface CheckpointTaskRequest {
  id: string;
  path: string;
  options?: Any;
}

export interface UpdateTaskRequest {
  id: string;
  /** Linux resources (OCI runtime-spec LinuxResources as JSON, type URL "types.containerd.io/opencontainers/runtime-spec/1/LinuxResources"). */
  resources?: Any;
  annotations: Record<string, string>;
}

export interface StartRequest {
  id: string;
  execId: string;
}
export interface StartResponse {
  pid: number;
}

export interface WaitRequest {
  id: string;
  execId: string;
}
export interface WaitResponse {
  exitStatus: number;
  exitedAt?: Date;
}

export interface StatsRequest {
  id: string;
}
export interface StatsResponse {
  /** io.containerd.cgroups.v1.Metrics or io.containerd.cgroups.v2.Metrics, packed with packAny. */
  stats?: Any;
}

export interface ConnectRequest {
  id: string;
}
export interface ConnectResponse {
  shimPid: number;
  taskPid: number;
  version: string;
}

export interface ShutdownRequest {
  id: string;
  now: boolean;
}

export interface PauseRequest {
  id: string;
}
export interface ResumeRequest {
  id: string;
}

/** google.protobuf.Empty */
export type Empty = Record<string, never>;

/** containerd.types.RuntimeInfo (api/types/introspection.proto), printed by `shim -info`. */
export interface RuntimeInfo {
  name: string;
  version?: { version: string; revision: string };
  /** The options containerd gave on stdin, echoed. */
  options?: Any;
  /** OCI runtime features (runtime-spec features.md) as JSON, if known. */
  features?: Any;
  annotations: Record<string, string>;
}
