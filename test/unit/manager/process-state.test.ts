import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { allows, nextProcessState, PROCESS_STATES, PROCESS_TRANSITIONS, recordOf, stateOfRecord, type ProcessState, type ProcessTransition } from '../../../src/manager/process-state.js';
import { IllegalTransitionError } from '../../../src/manager/transitions.js';
import { nextVnodeState, VNODE_STATES, VNODE_TRANSITIONS, vnodeAllows, type VnodeState, type VnodeTransition } from '../../../src/manager/vnode-state.js';

// Written out by hand (not read from the table): every legal move; everything else is illegal.
const LEGAL_PROCESS: Record<ProcessTransition, Partial<Record<ProcessState, ProcessState>>> = {
  start: { created: 'starting' },
  'finish-start': { starting: 'running', 'exit-pending': 'exit-pending' },
  'fail-start': { starting: 'created', 'exit-pending': 'exit-pending' },
  pause: { running: 'paused' },
  resume: { paused: 'running' },
  exit: { created: 'stopped', starting: 'exit-pending', running: 'stopped', paused: 'stopped' },
  'report-exit': { 'exit-pending': 'stopped' },
  delete: { created: 'deleted', stopped: 'deleted' },
};

const LEGAL_VNODE: Record<VnodeTransition, Partial<Record<VnodeState, VnodeState>>> = {
  'become-ready': { creating: 'ready' },
  abandon: { creating: 'gone' },
  admit: { ready: 'ready' },
  drain: { ready: 'draining', draining: 'draining' },
  remove: { draining: 'gone' },
};

describe('process states', () => {
  it('has exactly the named transitions', () => {
    assert.deepEqual(Object.keys(PROCESS_TRANSITIONS).sort(), Object.keys(LEGAL_PROCESS).sort());
  });

  for (const t of Object.keys(LEGAL_PROCESS) as ProcessTransition[]) {
    for (const from of PROCESS_STATES) {
      const to = LEGAL_PROCESS[t][from];
      if (to) {
        it(`${t}: ${from} → ${to}`, () => {
          assert.equal(nextProcessState('task c1', from, t), to);
          assert.equal(allows(from, t), true);
        });
      } else {
        it(`${t} is refused in ${from}`, () => {
          assert.equal(allows(from, t), false);
          assert.throws(
            () => nextProcessState('task c1', from, t),
            (e: unknown) => e instanceof IllegalTransitionError && e.code === 'VNODE_ILLEGAL_TRANSITION' && e.message === `cannot ${t} task c1 in state ${from}`,
          );
        });
      }
    }
  }

  it('words a refusal like containerd, with an optional hint', () => {
    assert.throws(() => nextProcessState('task c1', 'stopped', 'pause'), { message: 'cannot pause task c1 in state stopped' });
    assert.throws(() => nextProcessState('exec process e1 of task c1', 'running', 'delete', 'kill it first'), { message: 'cannot delete exec process e1 of task c1 in state running: kill it first' });
  });

  it('keeps runc’s coarse status and the paused flag on disk, and reads them back', () => {
    assert.deepEqual(recordOf('created'), { status: 'created', paused: false });
    assert.deepEqual(recordOf('starting'), { status: 'created', paused: false });
    assert.deepEqual(recordOf('running'), { status: 'running', paused: false });
    assert.deepEqual(recordOf('exit-pending'), { status: 'created', paused: false });
    assert.deepEqual(recordOf('paused'), { status: 'running', paused: true });
    assert.deepEqual(recordOf('stopped'), { status: 'stopped', paused: false });
    assert.equal(stateOfRecord('created', false), 'created');
    assert.equal(stateOfRecord('running', false), 'running');
    assert.equal(stateOfRecord('running', true), 'paused');
    assert.equal(stateOfRecord('stopped', true), 'stopped');
  });
});

describe('vNode states', () => {
  it('has exactly the named transitions', () => {
    assert.deepEqual(Object.keys(VNODE_TRANSITIONS).sort(), Object.keys(LEGAL_VNODE).sort());
  });

  for (const t of Object.keys(LEGAL_VNODE) as VnodeTransition[]) {
    for (const from of VNODE_STATES) {
      const to = LEGAL_VNODE[t][from];
      if (to) {
        it(`${t}: ${from} → ${to}`, () => {
          assert.equal(nextVnodeState('ns-a', from, t), to);
          assert.equal(vnodeAllows(from, t), true);
        });
      } else {
        it(`${t} is refused in ${from}`, () => {
          assert.equal(vnodeAllows(from, t), false);
          assert.throws(() => nextVnodeState('ns-a', from, t), { message: `cannot ${t} vNode ns-a in state ${from}` });
        });
      }
    }
  }
});
