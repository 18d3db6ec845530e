// The states of a task's init process and of its exec processes, and every transition
// between them. A process is created, starting while the runtime starts it, running
// (an init also paused ⇄ running), and stopped once its exit is known. An exit seen
// while it is starting waits in exit-pending until TaskStart / TaskExecStarted has gone
// out, so containerd never sees an exit before the start. Deleted ends it.
//
// On disk (task-store.ts) a process keeps the coarse status containerd's runc shim
// reports (created/running/stopped) plus the task's paused flag; starting and
// exit-pending live only while this manager does.
import type { ProcessStatus } from './task-store.js';
import { next, target, type TransitionTable } from './transitions.js';

export type ProcessState = 'created' | 'starting' | 'running' | 'paused' | 'exit-pending' | 'stopped' | 'deleted';

export type ProcessTransition =
  /** Start / exec start begins. */
  | 'start'
  /** The runtime started it. */
  | 'finish-start'
  /** The runtime failed to start it: it can be started again, or deleted. */
  | 'fail-start'
  | 'pause'
  | 'resume'
  /** Its exit is known (from the vNode init's exit log, or the vNode is gone). */
  | 'exit'
  /** The start was answered: the exit held back meanwhile goes out. */
  | 'report-exit'
  | 'delete';

export const PROCESS_TRANSITIONS: TransitionTable<ProcessState, ProcessTransition> = {
  start: { created: 'starting' },
  'finish-start': { starting: 'running', 'exit-pending': 'exit-pending' },
  'fail-start': { starting: 'created', 'exit-pending': 'exit-pending' },
  pause: { running: 'paused' },
  resume: { paused: 'running' },
  exit: { created: 'stopped', running: 'stopped', paused: 'stopped', starting: 'exit-pending' },
  'report-exit': { 'exit-pending': 'stopped' },
  delete: { created: 'deleted', stopped: 'deleted' },
};

export const PROCESS_STATES = ['created', 'starting', 'running', 'paused', 'exit-pending', 'stopped', 'deleted'] as const satisfies readonly ProcessState[];

/** The state after `transition`; throws IllegalTransitionError ("cannot pause task c1 in state stopped"). */
export function nextProcessState(subject: string, state: ProcessState, transition: ProcessTransition, hint?: string): ProcessState {
  return next(PROCESS_TRANSITIONS, subject, state, transition, hint);
}

export function allows(state: ProcessState, transition: ProcessTransition): boolean {
  return target(PROCESS_TRANSITIONS, state, transition) !== undefined;
}

/** The state a process has after a manager restart, from its record. */
export function stateOfRecord(status: ProcessStatus, paused: boolean): ProcessState {
  if (status === 'running') return paused ? 'paused' : 'running';
  return status;
}

/** What the record keeps of a state: runc's coarse status and whether the task is paused. */
export function recordOf(state: ProcessState): { status: ProcessStatus; paused: boolean } {
  switch (state) {
    case 'created':
    case 'starting':
    // held back for the moment between the runtime's answer and TaskStart going out
    case 'exit-pending':
      return { status: 'created', paused: false };
    case 'running':
      return { status: 'running', paused: false };
    case 'paused':
      return { status: 'running', paused: true };
    case 'stopped':
    case 'deleted':
      return { status: 'stopped', paused: false };
  }
}
