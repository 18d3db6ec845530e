// containerd.events task events (proto/containerd/events/task.proto, generated in
// gen/), their topics, and the envelope containerd's Events.Forward takes.
import type {
  TaskCheckpointed,
  TaskCreate,
  TaskDelete,
  TaskExecAdded,
  TaskExecStarted,
  TaskExit,
  TaskOOM,
  TaskPaused,
  TaskResumed,
  TaskStart,
} from './gen/containerd/events/task.js';
import { EventsDefinition } from './gen/containerd/services/events/ttrpc/v1/events.js';

export type {
  TaskCheckpointed,
  TaskCreate,
  TaskDelete,
  TaskExecAdded,
  TaskExecStarted,
  TaskExit,
  TaskIO,
  TaskOOM,
  TaskPaused,
  TaskResumed,
  TaskStart,
} from './gen/containerd/events/task.js';
export type { Envelope } from './gen/containerd/types/event.js';
export type { ForwardRequest } from './gen/containerd/services/events/ttrpc/v1/events.js';

export const EVENTS_SERVICE: string = EventsDefinition.fullName;

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
