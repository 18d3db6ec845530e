import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProcessTable } from '../../../src/manager/task/processes.js';
import type { ProcessRecord, TaskRecord } from '../../../src/manager/task-store.js';
import { IllegalTransitionError } from '../../../src/manager/transitions.js';

function proc(execId = '', status: ProcessRecord['status'] = 'created'): ProcessRecord {
  return { execId, status, vnodePid: 0, hostPid: 0, terminal: false, stdin: '', stdout: '', stderr: '' };
}

function task(over: Partial<TaskRecord> = {}): TaskRecord {
  return { namespace: 'k8s.io', id: 'c1', bundle: '/b', vnode: 'ns-a', kind: 'task', rootfs: '/r', scratch: '/s', idmaps: [], runtimeBundle: '/rb', runtime: 'runc', paused: false, init: proc(), execs: {}, rootfsMounts: [], ...over };
}

test('a process moves through the table and its record keeps the coarse status', () => {
  const pt = new ProcessTable();
  const t = task();
  pt.move(t, t.init, 'start');
  assert.equal(t.init.status, 'created');
  pt.move(t, t.init, 'finish-start');
  assert.equal(t.init.status, 'running');
  pt.move(t, t.init, 'pause');
  assert.deepEqual([t.init.status, t.paused, pt.state(t, t.init)], ['running', true, 'paused']);
  assert.throws(() => pt.move(t, t.init, 'pause'), { message: 'cannot pause task c1 in state paused' });
  pt.move(t, t.init, 'resume');
  assert.equal(t.paused, false);
  pt.move(t, t.init, 'exit');
  assert.deepEqual([t.init.status, pt.state(t, t.init)], ['stopped', 'stopped']);
});

test('a state comes back from the record after a restart', () => {
  const t = task({ paused: true, init: proc('', 'running') });
  t.execs.e1 = proc('e1', 'running');
  const pt = new ProcessTable();
  assert.equal(pt.state(t, t.init), 'paused');
  // the task's paused flag is the init's, not an exec's
  assert.equal(pt.state(t, t.execs.e1!), 'running');
});

test('check refuses without changing anything; execs are named as such', () => {
  const pt = new ProcessTable();
  const t = task();
  t.execs.e1 = proc('e1', 'running');
  assert.throws(() => pt.check(t, t.execs.e1!, 'delete', 'kill it first'), (e: unknown) => e instanceof IllegalTransitionError && e.message === 'cannot delete exec process e1 of task c1 in state running: kill it first');
  assert.equal(pt.state(t, t.execs.e1!), 'running');
  pt.check(t, t.init, 'start');
  assert.equal(pt.state(t, t.init), 'created');
});

test('an exit while starting is held back and the record still says created', () => {
  const pt = new ProcessTable();
  const t = task();
  pt.move(t, t.init, 'start');
  pt.move(t, t.init, 'exit');
  assert.deepEqual([pt.state(t, t.init), t.init.status], ['exit-pending', 'created']);
  pt.move(t, t.init, 'finish-start');
  pt.move(t, t.init, 'report-exit');
  assert.deepEqual([pt.state(t, t.init), t.init.status], ['stopped', 'stopped']);
});

test('forgotten processes start over from their records', () => {
  const pt = new ProcessTable();
  const t = task();
  pt.move(t, t.init, 'start');
  pt.forgetTask(t);
  assert.equal(pt.state(t, t.init), 'created');
});
