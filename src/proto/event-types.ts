// containerd.events task events (api/events/task.proto), their topics, and the
// envelope containerd's Events.Forward takes.
import type { Any } from './codec.js';
import type { ExitReason, Mount } from './task-types.js';

export const EVENTS_SERVICE = 'containerd.services.events.ttrpc.v1.Events';

export interface TaskIO {
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
}

export interface TaskCreate {
  containerId: string;
  bundle: string;
  rootfs: Mount[];
  io?: TaskIO;
  checkpoint: string;
  pid: number;
}
export interface TaskStart {
  containerId: string;
  pid: number;
}
export interface TaskDelete {
  containerId: string;
  pid: number;
  exitStatus: number;
  exitedAt?: Date;
  /** exec id; "" for the init process. */
  id: string;
}
export interface TaskExit {
  containerId: string;
  /** exec id, or the container id for the init process (as the runc shim sends). */
  id: string;
  pid: number;
  exitStatus: number;
  exitedAt?: Date;
  exitReason?: ExitReason;
}
export interface TaskOOM {
  containerId: string;
}
export interface TaskExecAdded {
  containerId: string;
  execId: string;
}
export interface TaskExecStarted {
  containerId: string;
  execId: string;
  pid: number;
}
export interface TaskPaused {
  containerId: string;
}
export interface TaskResumed {
  containerId: string;
}
export interface TaskCheckpointed {
  containerId: string;
  checkpoint: string;
}

/** Topic, message type and payload shape of every task event. */
export interface TaskEvents {
  '/tasks/create': TaskCreate;
  '/tasks/start': TaskStart;
  '/tasks/delete': TaskDelete;
  '/tasks/exit': TaskExit;
  '/tasks/oom': TaskOOM;
  '/tasks/exec-added': TaskExecAdded;
  '/tasks/exec-started': TaskExecStarted;
  '/tasks/paused': TaskPaused;
  '/tasks/resumed': TaskResumed;
  '/tasks/checkpointed': TaskCheckpointed;
}
export type TaskTopic = keyof TaskEvents;

/** Full protobuf message name of each topic's event (also its Any type URL). */
export const TOPIC_MESSAGE: { readonly [T in TaskTopic]: string } = {
  '/tasks/create': 'containerd.events.TaskCreate',
  '/tasks/start': 'containerd.events.TaskStart',
  '/tasks/delete': 'containerd.events.TaskDelete',
  '/tasks/exit': 'containerd.events.TaskExit',
  '/tasks/oom': 'containerd.events.TaskOOM',
  '/tasks/exec-added': 'containerd.events.TaskExecAdded',
  '/tasks/exec-started': 'containerd.events.TaskExecStarted',
  '/tasks/paused': 'containerd.events.TaskPaused',
  '/tasks/resumed': 'containerd.events.TaskResumed',
  '/tasks/checkpointed': 'containerd.events.TaskCheckpointed',
};

/** containerd.types.Envelope */
export interface Envelope {
  timestamp?: Date;
  namespace: string;
  topic: string;
  event?: Any;
}

/** containerd.services.events.ttrpc.v1.ForwardRequest */
export interface ForwardRequest {
  envelope?: Envelope;
}
