// Task API Start: `runtime start` for a created container, `runtime exec --detach`
// for an exec process. The process is starting meanwhile; an exit seen then goes out
// after TaskStart / TaskExecStarted, as containerd expects.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { planExecProcess } from '../../oci/index.js';
import type { ProcessRecord, TaskRecord } from '../task-store.js';
import type { Vnode } from '../vnode.js';
import type { CallContext, TaskDeps } from './deps.js';
import { PreconditionError } from './errors.js';
import type { ExitBook } from './exits.js';
import { launch } from './launch.js';
import { sandboxNetworkReady } from './pod-network.js';

export async function startProcess(d: TaskDeps, exits: ExitBook, req: { id: string; execId: string }, ctx: CallContext): Promise<{ pid: number }> {
  const t = d.task(ctx.namespace, req.id);
  const p = d.proc(t, req.execId);
  d.processes.check(t, p, 'start');
  const v = d.vnodeOf(t);
  d.processes.move(t, p, 'start');
  try {
    const pid = req.execId ? await startExec(d, exits, t, p, v) : await startInit(d, t, p, v);
    return { pid };
  } catch (e) {
    d.processes.move(t, p, 'fail-start');
    throw e;
  } finally {
    exits.reportPendingExit(t, p);
  }
}

async function startInit(d: TaskDeps, t: TaskRecord, p: ProcessRecord, v: Vnode): Promise<number> {
  const rt = d.runtime(t.runtime);
  // a sandbox's links may still be moving (create.ts): the pause process does not need them, its start's answer does
  const network = t.kind === 'sandbox' ? sandboxNetworkReady(t.namespace, t.id, t.netRecord) : Promise.resolve();
  network.catch(() => undefined);
  await rt.run(v.initPid, ['start', t.id]);
  try {
    await network;
  } catch (e) {
    await rt.run(v.initPid, ['kill', t.id, 'KILL']).catch(() => undefined);
    throw e;
  }
  d.processes.move(t, p, 'finish-start');
  d.store.save(t);
  d.o.events.publish('/tasks/start', t.namespace, { containerId: t.id, pid: p.hostPid });
  return p.hostPid;
}

async function startExec(d: TaskDeps, exits: ExitBook, t: TaskRecord, p: ProcessRecord, v: Vnode): Promise<number> {
  if (t.init.status !== 'running') throw new PreconditionError(`container ${t.id} is not running`);
  const dir = join(t.scratch, 'exec');
  mkdirSync(dir, { recursive: true });
  const procFile = join(dir, `${encodeURIComponent(p.execId)}.json`);
  const pidFile = join(dir, `${encodeURIComponent(p.execId)}.pid`);
  writeFileSync(procFile, JSON.stringify(planExecProcess(p.spec, p.terminal)));
  const since = Date.now();
  await launch(d, t, p, v, ['exec', '--detach', '--process', procFile, '--pid-file', pidFile], pidFile, []);
  // still starting: an exit logged before its PID was known is held back like any other
  exits.claimEarlyExit(t, p, since);
  d.processes.move(t, p, 'finish-start');
  d.store.save(t);
  d.o.events.publish('/tasks/exec-started', t.namespace, { containerId: t.id, execId: p.execId, pid: p.hostPid });
  return p.hostPid;
}
