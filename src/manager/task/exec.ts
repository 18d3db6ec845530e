// Task API Exec: records an exec process of a task (its process spec checked by the
// planner); Start runs it.
import type { Any } from '../../proto/index.js';
import { planExecProcess } from '../../oci/index.js';
import { vnodeHostname } from '../vnode.js';
import type { CallContext, TaskDeps } from './deps.js';
import { BadRequestError, PreconditionError, TaskExistsError } from './errors.js';

export interface ExecRequest {
  id: string;
  execId: string;
  terminal: boolean;
  stdin: string;
  stdout: string;
  stderr: string;
  spec?: Any;
}

export function addExec(d: TaskDeps, req: ExecRequest, ctx: CallContext): void {
  const t = d.task(ctx.namespace, req.id);
  if (t.execs[req.execId]) throw new TaskExistsError(`exec process ${req.execId} already exists in task ${t.id}`);
  if (t.init.status === 'stopped') throw new PreconditionError(`container ${t.id} is stopped`);
  let spec: unknown;
  try {
    spec = JSON.parse(Buffer.from(req.spec?.value ?? new Uint8Array()).toString('utf8'));
  } catch (e) {
    throw new BadRequestError(`exec ${req.execId}: the process spec is not valid JSON: ${(e as Error).message}`);
  }
  // refused now rather than at Start
  planExecProcess(spec, req.terminal);
  const v = d.vnodes.get(t.vnode);
  if (v?.sharesNamespace(t.init.hostPid, 'uts')) spec = planExecProcess(spec, req.terminal, vnodeHostname(v.name));
  t.execs[req.execId] = { execId: req.execId, status: 'created', vnodePid: 0, hostPid: 0, terminal: req.terminal, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, spec };
  d.store.save(t);
  d.o.events.publish('/tasks/exec-added', t.namespace, { containerId: t.id, execId: req.execId });
}
