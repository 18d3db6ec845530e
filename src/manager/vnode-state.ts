// The lifecycle of a vNode: creating while its init starts, ready to take member
// tasks, draining once it is being removed (its last member left, or its init died),
// gone when its ID range, directories and record are released. A vNode found on disk
// after a restart is ready if its init lives, else draining.
import { next, target, type TransitionTable } from './transitions.js';

export type VnodeState = 'creating' | 'ready' | 'draining' | 'gone';

export type VnodeTransition =
  /** Its init runs and its record is saved. */
  | 'become-ready'
  /** Creating failed: nothing of it is left. */
  | 'abandon'
  /** It takes a member task (containerd namespace/task id). */
  | 'admit'
  /** Its removal begins: no member joins any more. */
  | 'drain'
  /** Its resources are released. */
  | 'remove';

export const VNODE_TRANSITIONS: TransitionTable<VnodeState, VnodeTransition> = {
  'become-ready': { creating: 'ready' },
  abandon: { creating: 'gone' },
  admit: { ready: 'ready' },
  drain: { ready: 'draining', draining: 'draining' },
  remove: { draining: 'gone' },
};

export const VNODE_STATES = ['creating', 'ready', 'draining', 'gone'] as const satisfies readonly VnodeState[];

export function nextVnodeState(name: string, state: VnodeState, transition: VnodeTransition): VnodeState {
  return next(VNODE_TRANSITIONS, `vNode ${name}`, state, transition);
}

export function vnodeAllows(state: VnodeState, transition: VnodeTransition): boolean {
  return target(VNODE_TRANSITIONS, state, transition) !== undefined;
}
