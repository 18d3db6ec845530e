// Log records of a task name it: pod "<namespace>/<name>", vNode, task id, exec id.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonLogger } from '../../../src/log/index.js';
import { TaskDeps, type ServiceOptions } from '../../../src/manager/task/deps.js';
import type { TaskRecord } from '../../../src/manager/task-store.js';

test('logFor binds the pod, vNode, task and exec fields of a task', () => {
  const lines: string[] = [];
  const logger = jsonLogger({ name: 'vnode-manager', destination: { write: (l: string) => void lines.push(l) }, fields: { component: 'manager' } });
  const d = new TaskDeps({ logger } as unknown as ServiceOptions, undefined as never, undefined as never, undefined as never, undefined as never);
  const t = { namespace: 'k8s.io', id: 'c1', vnode: 'ns-web', pod: 'pod web/nginx-0 container nginx' } as TaskRecord;
  d.logFor(t, 'e7').warn('exec gone');
  d.logFor({ ...t, pod: undefined }).info('a task without CRI');
  const [a, b] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual([a!.pod, a!.vnode, a!.task, a!.exec, a!.component, a!.msg, a!.level], ['web/nginx-0', 'ns-web', 'c1', 'e7', 'manager', 'exec gone', 'warn']);
  assert.deepEqual([b!.pod, b!.vnode, b!.task, b!.exec], [undefined, 'ns-web', 'c1', undefined]);
});
