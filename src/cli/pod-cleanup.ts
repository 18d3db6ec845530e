// Removing a pod the way kubelet does, shared by `vnode run` (when its pod ends) and
// `vnode delete` (pods started with --detach): StopContainer with the grace period,
// StopPodSandbox, RemovePodSandbox, then the pod directory (emptyDir volumes), the pod's
// log directory and its pod cgroup. Where those are is recorded in the sandbox's
// annotations by translate.ts, so that `vnode delete` finds them later.
import { existsSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CriError, type CriClient } from '../k8s/cri/index.js';
import { mountsUnder, umount } from '../sys/index.js';
import { cliLog } from './log.js';
import type { Progress } from './output.js';

export const Annotation = {
  podDir: 'vnode.io/run.pod-dir',
  cgroupParent: 'vnode.io/run.cgroup-parent',
  gracePeriod: 'vnode.io/run.termination-grace-period',
} as const;

const notFound = (err: unknown) => err instanceof CriError && (err.grpcCode === 5 || /not found/i.test(err.details));
const log = () => cliLog({ component: 'vnode' });

/** StopContainer on each (SIGTERM, SIGKILL after graceSec), in parallel; resolves early when `force` does. */
export async function stopContainers(cri: CriClient, ids: string[], graceSec: number, force?: Promise<void>): Promise<void> {
  const stops = Promise.all(ids.map(async (id) => {
    // bounded: a runtime that does not answer must not keep us from removing the pod
    try { await cri.call('runtime', 'StopContainer', { container_id: id, timeout: graceSec }, (graceSec + 30) * 1000); } catch (err) {
      if (!notFound(err)) log().warn({ err }, `stop container ${id.slice(0, 12)}: ${(err as Error).message}`);
    }
  }));
  await (force ? Promise.race([stops, force]) : stops);
}

export interface PodFiles {
  podDir?: string;
  logDir?: string;
  cgroupParent?: string;
  uid?: string;
}

/** StopPodSandbox + RemovePodSandbox (which removes the containers); "not found" is fine. */
export async function removeSandbox(cri: CriClient, sandboxId: string): Promise<void> {
  for (const step of ['stop', 'remove'] as const) {
    try {
      // bounded, so that a runtime that hangs costs a minute, not the CRI client's default two
      await cri.call('runtime', step === 'stop' ? 'StopPodSandbox' : 'RemovePodSandbox', { pod_sandbox_id: sandboxId }, 60_000);
    } catch (err) {
      if (!notFound(err)) log().warn({ err }, `${step} pod ${sandboxId.slice(0, 12)}: ${(err as Error).message}`);
    }
  }
}

/** What kubelet removes after the sandbox: pod dir (unmounting tmpfs emptyDirs), logs, pod cgroup (and its parent when empty). */
export function removePodFiles(f: PodFiles): void {
  if (f.podDir && existsSync(f.podDir)) {
    for (const m of mountsUnder(f.podDir)) {
      try { umount(m); } catch (err) { log().warn({ err }, `unmount ${m}: ${(err as Error).message}`); }
    }
    if (mountsUnder(f.podDir).length === 0) rmSync(f.podDir, { recursive: true, force: true });
  }
  if (f.logDir) rmSync(f.logDir, { recursive: true, force: true });
  if (f.cgroupParent && f.uid) removePodCgroups(`${f.cgroupParent.replace(/\/$/, '')}/pod${f.uid}`, f.cgroupParent);
}

/** rmdir of the pod's (now empty) cgroup in every hierarchy, as kubelet's pod cgroup manager does; the parent too when no other pod uses it. */
function removePodCgroups(path: string, parent: string): void {
  let mounts: string[] = [];
  try {
    mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
      .filter((l) => / - cgroup2? /.test(l))
      .map((l) => l.split(' ')[4]!)
      .filter(Boolean);
  } catch { return; }
  for (const m of mounts) {
    for (const dir of [join(m, path), join(m, parent)]) {
      if (!existsSync(dir) || dir === m) continue;
      try { rmdirSync(dir); } catch { /* busy (processes left) or other pods: leave it */ }
    }
  }
}

/** Everything: containers (graceful), sandbox, files. */
export async function removePod(cri: CriClient, sandboxId: string, containerIds: string[], graceSec: number, files: PodFiles, progress: Progress, force?: Promise<void>): Promise<void> {
  if (containerIds.length > 0) {
    progress(`stopping ${containerIds.length} container(s) (grace period ${graceSec}s)…`);
    await stopContainers(cri, containerIds, graceSec, force);
  }
  await removeSandbox(cri, sandboxId);
  removePodFiles(files);
}
