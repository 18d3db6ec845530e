// Task API Update: new resources (OCI linux.resources JSON) for the container's cgroup, applied by the runtime
// (and, under the systemd driver, given to the container's scope as unit properties).
import type { Any } from '../../proto/index.js';
import type { CallContext, TaskDeps } from './deps.js';
import { BadRequestError } from './errors.js';
import { updateScope } from './systemd-scope.js';

export async function updateTask(d: TaskDeps, req: { id: string; resources?: Any }, ctx: CallContext): Promise<void> {
  const t = d.task(ctx.namespace, req.id);
  const v = d.vnodeOf(t);
  const json = Buffer.from(req.resources?.value ?? new Uint8Array()).toString('utf8');
  try {
    JSON.parse(json || '{}');
  } catch (e) {
    throw new BadRequestError(`update ${t.id}: resources are not valid JSON: ${(e as Error).message}`);
  }
  await d.runtime(t.runtime).run(v.initPid, ['update', '--resources', '-', t.id], { input: json || '{}' });
  await updateScope(t.cgroup, json);
}
