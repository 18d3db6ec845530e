// Task API Create: a container (pod sandbox, pod container, or a task without CRI)
// in its vNode. The steps: pick the vNode, plan the runtime's spec (oci/planner.ts),
// check and prepare the sandbox's network (pod-network.ts), lay out its files
// (rootfs-steps.ts), run `runtime create`, adopt the pod network, record the task. A
// failure undoes every step taken, in reverse.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { podIdentity, type PodIdentity } from '../../oci/index.js';
import { planSpec, type PlanInput, type VnodefsPlacement } from '../../oci/index.js';
import { parseSpec, type OciSpec } from '../../oci/index.js';
import type { CreateTaskRequest } from '../../proto/index.js';
import { cgroupOf } from '../../cgroup/index.js';
import { hostDeviceNode } from '../devices.js';
import { helperPath } from '../helpers.js';
import type { ProcView } from '../proc-view.js';
import { unmountRootfs } from '../rootfs.js';
import { vnodeHostname, type Vnode } from '../vnode.js';
import { taskKey, type ProcessRecord, type TaskRecord } from '../task-store.js';
import type { CallContext, TaskDeps } from './deps.js';
import { BadRequestError, PreconditionError, TaskExistsError, UnsupportedError } from './errors.js';
import type { ExitBook } from './exits.js';
import { launch, type Undo } from './launch.js';
import { askedIdRangeOf, hostMountOptions, mountTaskRootfs, placePodFiles, taskDirs, type TaskDirs } from './rootfs-steps.js';
import { runtimeBinaryFor } from './runtime-options.js';
import { addSandboxEntry, addTaskEntry, placementOf } from './vnodefs-entry.js';
import { delegateTaskCgroups } from './cgroup-delegation.js';
import { scopeOfSpec, startScope } from './systemd-scope.js';
import { oomBaseline } from './oom.js';
import { adoptSandboxNetwork, attachHostNetwork, captureSandboxNetwork, requirePodNetwork, settleSandboxNetwork } from './pod-network.js';
import { removeAdoptionRecord } from '../../net/index.js';
import { logSteps, StepTimer } from './step-timer.js';

/** Path components that mark containerd's own per-pod files wherever its root/state dirs are. */
const POD_FILE_MARKERS = ['io.containerd.grpc.v1.cri', 'io.containerd.runtime.v2.task', 'io.containerd.cri.v1.runtime'];

export async function createTask(d: TaskDeps, exits: ExitBook, req: CreateTaskRequest, ctx: CallContext): Promise<{ pid: number }> {
  // containerd 1.x sends no namespace in the ttrpc metadata; its bundle path names it
  // (<state>/io.containerd.runtime.v2.task/<namespace>/<id>).
  const ns = ctx.namespace || namespaceOfBundle(req.bundle, req.id) || 'default';
  if (d.store.get(ns, req.id)) throw new TaskExistsError(`task ${req.id} already exists in namespace ${ns}`);
  d.tombstones.clear(ns, req.id);
  if (req.checkpoint) throw new UnsupportedError(`task ${req.id}: restoring from a checkpoint is not supported by vnode`);
  const runtimeBinary = runtimeBinaryFor(req.options);
  const bundle = resolve(req.bundle);
  const configPath = join(bundle, 'config.json');
  let specText: string;
  try {
    specText = readFileSync(configPath, 'utf8');
  } catch (e) {
    throw new BadRequestError(`create ${req.id}: cannot read ${configPath}: ${(e as Error).message}`);
  }
  const undo: Undo = [];
  const member = taskKey(ns, req.id);
  const steps = new StepTimer();
  try {
    const spec = parseSpec(specText, configPath);
    const who = podIdentity(spec);
    const { key, sandbox } = vnodeKeyOf(d, ns, req.id, who);
    const v = await d.vnodes.acquire(key, member);
    undo.push(() => d.vnodes.release(member));
    steps.mark('vNode');

    const dirs = taskDirs(d.o.paths.mounts, ns, req.id);
    mkdirSync(dirs.scratch, { recursive: true, mode: 0o711 });
    // 0711: crun runs a createContainer hook (vnode-bind) with the bundle as its working
    // directory (chdir) inside the vNode's user namespace, whose root is not host root;
    // config.json (the pod's environment) stays host root's alone.
    mkdirSync(dirs.runtimeBundle, { recursive: true, mode: 0o711 });
    undo.push(() => unmountRootfs({ target: dirs.rootfs, scratch: dirs.scratch }));

    const pv = d.o.procView;
    const { view, entry } = pv ? vnodefsEntryOf(pv, v, ns, req.id, who, sandbox, spec, undo) : {};

    const scope = scopeOfSpec(spec);
    const asked = askedIdRangeOf(spec);
    const plan = planSpec(planInput(d, v, dirs, spec, who.kind === 'sandbox', sandbox, pv && entry ? placementOf(pv, entry) : undefined));
    if (who.kind === 'sandbox') requirePodNetwork(d.o.network ?? {}, req.id, podLabel(who), plan);
    if (plan.hostNetwork && who.kind === 'sandbox') await attachHostNetwork(d.o.network ?? {}, v, who.podNamespace);
    steps.mark('plan');
    await mountTaskRootfs(dirs, v, req.rootfs, bundle, spec.root!.path, asked);
    steps.mark('rootfs mount');
    const { idmaps, mirrors } = placePodFiles(dirs, v, plan, { mode: d.o.tmpfsIdmap ?? 'auto', warn: (msg) => d.o.logger.warn({ task: req.id }, msg) });
    writeFileSync(join(dirs.runtimeBundle, 'config.json'), JSON.stringify(plan.spec), { mode: 0o600 });
    steps.mark('pod files');

    const init: ProcessRecord = { execId: '', status: 'created', vnodePid: 0, hostPid: 0, terminal: req.terminal, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr };
    const t: TaskRecord = {
      namespace: ns,
      id: req.id,
      bundle,
      vnode: v.name,
      kind: who.kind,
      sandboxId: who.sandboxId,
      pod: podLabel(who),
      rootfs: dirs.rootfs,
      scratch: dirs.scratch,
      idmaps,
      ...(mirrors.length > 0 ? { mirrors } : {}),
      runtimeBundle: dirs.runtimeBundle,
      runtime: runtimeBinary,
      paused: false,
      init,
      execs: {},
      rootfsMounts: req.rootfs,
      view,
    };
    const pidFile = join(dirs.scratch, 'init.pid');
    const since = Date.now();
    const netSnapshot = captureSandboxNetwork(plan);
    await launch(d, t, init, v, ['create', '--bundle', dirs.runtimeBundle, '--pid-file', pidFile], pidFile, undo);
    steps.mark('runtime create');
    // the links move while the create finishes and containerd starts the sandbox: its start waits for them
    const netRecord = adoptSandboxNetwork(d.o.paths, ns, req.id, plan, init.hostPid, netSnapshot);
    if (netRecord) {
      t.netRecord = netRecord;
      undo.push(async () => {
        await settleSandboxNetwork(ns, req.id);
        removeAdoptionRecord(netRecord);
      });
    }
    t.cgroup = init.hostPid > 0 ? cgroupOf(init.hostPid) : undefined;
    if (!t.cgroup) d.logFor(t).warn(`create ${req.id}: no cgroup found for host pid ${init.hostPid} (vNode pid ${init.vnodePid})`);
    if (scope) t.cgroup = await startScope(scope, init.hostPid, plan.spec, t.cgroup);
    t.oomBaseline = oomBaseline(t.cgroup);
    delegateTaskCgroups(t, plan.spec, init.hostPid, v.record.range.start);
    if (pv && who.kind === 'sandbox' && t.cgroup) t.view = addSandboxEntry(pv, v, req.id, t.cgroup);
    d.store.put(t);
    steps.mark('cgroups and record');
    logSteps(d, t, 'create', steps);
    exits.claimEarlyExit(t, init, since);
    d.o.events.publish('/tasks/create', ns, {
      containerId: req.id,
      bundle,
      rootfs: req.rootfs,
      io: { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
      checkpoint: '',
      pid: init.hostPid,
    });
    return { pid: init.hostPid };
  } catch (e) {
    for (const u of undo.reverse()) {
      try {
        await u();
      } catch (err) {
        d.o.logger.warn({ task: req.id, err }, `create ${req.id}: cleanup step failed: ${(err as Error).message}`);
      }
    }
    throw e;
  }
}

/** What the planner needs to know about the vNode, the task's directories and the host. */
function planInput(d: TaskDeps, v: Vnode, dirs: TaskDirs, spec: OciSpec, isSandbox: boolean, sandbox: TaskRecord | undefined, vnodefs: VnodefsPlacement | undefined): PlanInput {
  const sandboxPid = sandbox?.init.vnodePid;
  return {
    spec,
    vnode: {
      uidBase: v.record.range.start,
      gidBase: v.record.range.start,
      size: v.record.range.size,
      nsPath: (type) => `/proc/1/ns/${type === 'network' ? 'net' : type}`,
      hostPathRoot: v.hostPathRoot,
      hostname: vnodeHostname(v.name),
    },
    rootfsPath: dirs.rootfs,
    podFilePrefixes: d.o.podFilePrefixes,
    podFileMarkers: POD_FILE_MARKERS,
    idmapDir: dirs.files,
    vnodePidOf: (hostPid) => v.vnodePidOf(hostPid),
    podNetnsPath: sandboxPid ? `/proc/${sandboxPid}/ns/net` : undefined,
    isSandbox,
    hostDeviceNode,
    vnodefs,
    mountOptionsOf: hostMountOptions(),
    bindHelper: helperPath('vnode-bind'),
    joinsVnodeUts: sandbox !== undefined && v.sharesNamespace(sandbox.init.hostPid, 'uts'),
  };
}

/**
 * vnodefs over /proc and /sys: the entry a new task reads (a pod's containers their
 * sandbox's) and the one it owns (a task without CRI its own, removed if Create fails).
 */
function vnodefsEntryOf(pv: ProcView, v: Vnode, ns: string, id: string, who: PodIdentity, sandbox: TaskRecord | undefined, spec: OciSpec, undo: Undo): { view?: TaskRecord['view']; entry?: string } {
  if (who.kind === 'container' && sandbox?.view && pv.has(sandbox.view.id)) return { entry: sandbox.view.id };
  if (who.kind !== 'task') return {};
  const view = addTaskEntry(pv, v, ns, id, spec);
  if (!view) return {};
  undo.push(() => pv.remove(view.id));
  return { view, entry: view.id };
}

/** For messages: "pod <namespace>/<name>[ container <name>]" from the CRI annotations. */
function podLabel(who: PodIdentity): string | undefined {
  if (who.kind === 'task') return undefined;
  return `pod ${who.podNamespace ?? '?'}/${who.podName ?? '?'}${who.kind === 'container' ? ` container ${who.containerName ?? '?'}` : ''}`;
}

/** The vNode a new task joins: the one its pod names, else its pod's (per namespace, or per pod with perPod), its sandbox's, or its containerd namespace's. */
function vnodeKeyOf(d: TaskDeps, ns: string, id: string, who: PodIdentity): { key: string; sandbox?: TaskRecord } {
  if (who.kind === 'task') return { key: `ctr/${ns}` };
  let sandbox: TaskRecord | undefined;
  if (who.kind === 'container') {
    sandbox = who.sandboxId ? d.store.get(ns, who.sandboxId) : undefined;
    if (!sandbox) throw new PreconditionError(`create ${id}: its pod sandbox ${who.sandboxId ?? '(unnamed)'} is not running under the vnode runtime`);
  }
  // a named vNode (VNODE_NAME_ANNOTATION) groups pods across namespaces, in either mode
  const key = who.vnodeName ? `vnode/${who.vnodeName}` : d.o.perPod ? `pod/${who.sandboxId ?? id}` : `ns/${who.podNamespace ?? ns}`;
  return { key: sandbox ? (d.vnodes.get(sandbox.vnode)?.record.key ?? key) : key, sandbox };
}

export function namespaceOfBundle(bundle: string, id: string): string | undefined {
  const parts = resolve(bundle).split('/');
  return parts.at(-1) === id && parts.length >= 3 ? parts.at(-2) : undefined;
}
