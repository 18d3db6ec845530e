// `vnode delete NAME [-n NAMESPACE] [--containerd ADDRESS] [--now]`: removes a pod that
// `vnode run --detach` left running, as kubelet would (graceful stop, sandbox, pod
// directory, logs, pod cgroup). Exit 1 when no such pod.
import { parseArgs } from 'node:util';
import { CriClient } from '../k8s/cri/index.js';
import { localPaths, runningPid } from './containerd-local.js';
import { systemHasVnode, systemSocket } from './containerd-select.js';
import { ExitCode, NotFoundError, UsageError } from './errors.js';
import { progressTo } from './output.js';
import { Annotation, removePod } from './pod-cleanup.js';

export const DELETE_USAGE = `Usage: vnode delete NAME [-n NAMESPACE] [--containerd ADDRESS] [--now]

Removes the pod NAME (of namespace NAMESPACE, default "default") that "vnode run --detach"
started: its containers get SIGTERM and, after the pod's terminationGracePeriodSeconds
(--now: 0), SIGKILL; then the sandbox, the pod directory, logs and pod cgroup go.
Without --containerd: the containerd "vnode run" would use ($CONTAINERD_ADDRESS, the
system's if it has a vnode handler, else vnode's own when it runs).
`;

export async function deleteCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        namespace: { type: 'string', short: 'n' }, containerd: { type: 'string' }, now: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(DELETE_USAGE);
    return ExitCode.ok;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one pod name\n${DELETE_USAGE}`);
  const name = positionals[0]!;
  const namespace = v.namespace ?? 'default';
  const progress = progressTo(process.stderr, v.quiet ?? false);
  const local = localPaths();
  // the containerd `vnode run` would have chosen, without starting vnode's own
  const address = v.containerd || process.env.CONTAINERD_ADDRESS || ((await systemHasVnode()) ? systemSocket() : runningPid(local) !== undefined ? local.socket : undefined);
  if (!address) throw new NotFoundError(`pod ${namespace}/${name}: no containerd with a vnode handler runs here (vnode's own is stopped); pass --containerd`);
  const cri = await CriClient.connect(address, { waitMs: 5_000 });
  try {
    const pods = await cri.listPodSandbox({ label_selector: { 'io.kubernetes.pod.name': name, 'io.kubernetes.pod.namespace': namespace } });
    if (pods.length === 0) throw new NotFoundError(`pod ${namespace}/${name} not found in containerd at ${address}`);
    for (const p of pods) {
      const a = p.annotations ?? {};
      const containers = (await cri.listContainers({ pod_sandbox_id: p.id })).filter((c) => c.state === 'CONTAINER_RUNNING').map((c) => c.id);
      const grace = v.now ? 0 : Number(a[Annotation.gracePeriod] ?? 30);
      progress(`deleting pod ${namespace}/${name} (${p.id.slice(0, 12)})…`);
      const uid = p.metadata?.uid ?? '';
      await removePod(cri, p.id, containers, Number.isFinite(grace) ? grace : 30, {
        ...(a[Annotation.podDir] ? { podDir: a[Annotation.podDir] } : {}),
        ...(a[Annotation.cgroupParent] ? { cgroupParent: a[Annotation.cgroupParent] } : {}),
        uid,
        logDir: `${process.env.VNODE_POD_LOG_DIR || '/var/log/pods'}/${namespace}_${name}_${uid}`,
      }, progress);
      process.stdout.write(`pod "${name}" deleted\n`);
    }
  } finally {
    cri.close();
  }
  return ExitCode.ok;
}
