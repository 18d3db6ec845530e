// Task API Delete: an exec process's record, or the whole task (destroy): its runtime
// state, mounts, terminal relays, vnodefs entry and vNode membership. Destroy also
// serves the shim's `delete` when the manager is not answering (cleanup.ts).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { encode } from '../../proto/index.js';
import { RuntimeError } from '../oci-runtime.js';
import { unmountRootfsAsync } from '../rootfs.js';
import { taskKey, type TaskRecord } from '../task-store.js';
import type { CallContext, TaskDeps } from './deps.js';
import type { ExitBook } from './exits.js';
import { stopTtyRelay } from './tty-relay.js';
import { removeDelegatedCgroups } from './cgroup-delegation.js';
import { stopScope } from './systemd-scope.js';
import { forgetSandboxNetwork, settleSandboxNetwork } from './pod-network.js';
import { logSteps, StepTimer } from './step-timer.js';

export interface DeleteResult {
  pid: number;
  exitStatus: number;
  exitedAt: Date;
}

export async function deleteProcess(d: TaskDeps, exits: ExitBook, req: { id: string; execId: string }, ctx: CallContext): Promise<{ pid: number; exitStatus: number; exitedAt?: Date }> {
  const t = d.task(ctx.namespace, req.id);
  const p = d.proc(t, req.execId);
  if (req.execId) {
    d.processes.move(t, p, 'delete');
    delete t.execs[req.execId];
    d.store.save(t);
    d.processes.forget(t, req.execId);
    stopTtyRelay(p);
    return { pid: p.hostPid, exitStatus: p.exitStatus ?? 0, exitedAt: p.exitedAt ? new Date(p.exitedAt) : undefined };
  }
  // containerd gives a Delete 10 s, then tries again: the retry joins the delete still running
  const key = taskKey(t.namespace, t.id);
  const running = deletesInFlight.get(key);
  if (running) return running;
  d.processes.check(t, p, 'delete', 'kill it first');
  const deleting = (async () => {
    const result = await destroyTask(d, exits, t);
    // for the `delete` of the shim binary containerd runs next; containerd 2.x runs none
    // for a task it reached over its sandbox's address (shim protocol 3), and marks those
    // with a `sandbox` file in the bundle
    if (!existsSync(join(t.bundle, 'sandbox'))) d.tombstones.write(t.namespace, t.id, encode('containerd.task.v2.DeleteResponse', result));
    d.o.events.publish('/tasks/delete', t.namespace, { containerId: t.id, pid: result.pid, exitStatus: result.exitStatus, exitedAt: result.exitedAt, id: '' });
    return result;
  })();
  deletesInFlight.set(key, deleting);
  try {
    return await deleting;
  } finally {
    deletesInFlight.delete(key);
  }
}

/** Task deletes under way, by task key: a task's delete can outlast containerd's deadline for it (an overlay's unmount syncs its disk). */
const deletesInFlight = new Map<string, Promise<DeleteResult>>();

/** Removes a task's runtime state, mounts, terminal relays and vNode membership. */
export async function destroyTask(d: TaskDeps, exits: ExitBook, t: TaskRecord): Promise<DeleteResult> {
  const v = d.vnodes.get(t.vnode);
  const steps = new StepTimer();
  // a sandbox deleted before its start: its links finish moving (or moving back) first
  if (t.kind === 'sandbox') await settleSandboxNetwork(t.namespace, t.id);
  steps.mark('network settle');
  if (v?.alive()) {
    try {
      await d.runtime(t.runtime).run(v.initPid, ['delete', '--force', t.id]);
    } catch (e) {
      // a container the runtime does not know is what delete wants
      if (!(e instanceof RuntimeError && e.kind === 'not-found')) d.logFor(t).warn({ err: e }, `delete ${t.id}: ${(e as Error).message}`);
    }
    steps.mark('runtime delete');
    if (t.init.status !== 'stopped') {
      v.drainExits();
      if ((t.init.status as string) !== 'stopped') exits.markExited(t, t.init, 137, new Date());
    }
  } else if (t.init.status !== 'stopped') {
    exits.markExited(t, t.init, 137, new Date());
  }
  removeDelegatedCgroups(t.delegatedCgroups, d.logFor(t));
  steps.mark('delegated cgroups');
  await stopScope(t.cgroup, d.logFor(t));
  steps.mark('systemd scope');
  for (const p of [t.init, ...Object.values(t.execs)]) stopTtyRelay(p);
  if (t.view) d.o.procView?.remove(t.view.id);
  const log = d.logFor(t);
  await unmountRootfsAsync({ target: t.rootfs, scratch: t.scratch }, (done) => {
    const t0 = performance.now();
    done.then(
      () => { const s = (performance.now() - t0) / 1000; if (s > 2) log.info(`delete ${t.id}: the rootfs unmount finished in the background after ${s.toFixed(1)}s (an overlay syncs its upper file system)`); },
      (e: Error) => log.warn({ err: e }, `delete ${t.id}: unmounting the rootfs: ${e.message}`),
    );
  });
  steps.mark('rootfs unmount');
  // containerd's CNI DEL and netns removal undo the adoption itself; only its record is ours
  if (t.kind === 'sandbox') forgetSandboxNetwork(d.o.paths, t.namespace, t.id);
  d.store.remove(t);
  d.processes.forgetTask(t);
  await d.vnodes.release(taskKey(t.namespace, t.id));
  steps.mark('vNode release');
  logSteps(d, t, 'delete', steps);
  return { pid: t.init.hostPid, exitStatus: t.init.exitStatus ?? 137, exitedAt: t.init.exitedAt ? new Date(t.init.exitedAt) : new Date() };
}
