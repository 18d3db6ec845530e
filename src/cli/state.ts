// A read-only view of what the managers on this node keep in their state directories
// (<run dir>/<instance>/state/{vnodes,tasks}/*.json, see src/manager/vnode.ts and
// task-store.ts), joined into vNodes → pods → containers for `vnode ps` and `inspect`.
// Never talks to a manager: works while it is down, too.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskRecord } from '../manager/index.js';
import type { VnodeRecord } from '../manager/index.js';
import { isAlive } from '../sys/index.js';
import { SANDBOX_NAME, SANDBOX_NAMESPACE, SANDBOX_UID, CONTAINER_NAME } from '../oci/index.js';

export interface ContainerView {
  id: string;
  name: string;
  status: string;
  /** host PID of its init process (0 when not running). */
  pid: number;
  exitStatus?: number;
}

export interface PodView {
  /** The sandbox ID (CRI pod ID). */
  id: string;
  name: string;
  namespace: string;
  uid: string;
  status: string;
  containers: ContainerView[];
}

export interface TaskView {
  namespace: string;
  id: string;
  status: string;
  pid: number;
}

export interface VnodeView {
  instance: string;
  name: string;
  key: string;
  initPid: number;
  alive: boolean;
  range: { start: number; size: number; end: number };
  createdAt: string;
  members: string[];
  pods: PodView[];
  /** Tasks without CRI annotations (ctr run, nerdctl). */
  tasks: TaskView[];
}

export interface InstanceView {
  id: string;
  dir: string;
  managerPid: number;
  managerAlive: boolean;
  /** containerd's gRPC address, from the manager's environment when it runs. */
  containerdAddress: string;
  vnodes: VnodeView[];
}

function readJsonDir<T>(dir: string): T[] {
  let names: string[];
  try { names = readdirSync(dir).filter((f) => f.endsWith('.json')); } catch { return []; }
  const out: T[] = [];
  for (const f of names) {
    try { out.push(JSON.parse(readFileSync(join(dir, f), 'utf8')) as T); } catch { /* being rewritten or removed */ }
  }
  return out;
}

function annotationsOf(bundle: string): Record<string, string> {
  try {
    return (JSON.parse(readFileSync(join(bundle, 'config.json'), 'utf8')) as { annotations?: Record<string, string> }).annotations ?? {};
  } catch {
    return {};
  }
}

function managerOf(dir: string): { pid: number; alive: boolean; address: string } {
  let pid = 0;
  let start: string | undefined;
  try {
    const [p, s] = readFileSync(join(dir, 'manager.pid'), 'utf8').trim().split(/\s+/);
    pid = Number(p) || 0;
    start = s || undefined;
  } catch { /* never started here */ }
  const alive = pid > 0 && isAlive(pid, start);
  let address = '';
  if (alive) {
    try {
      const env = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0');
      address = env.find((e) => e.startsWith('VNODE_CONTAINERD_ADDRESS='))?.slice('VNODE_CONTAINERD_ADDRESS='.length) ?? '';
    } catch { /* not ours to read */ }
  }
  return { pid, alive, address };
}

function status(t: TaskRecord): string {
  if (t.paused) return 'paused';
  return t.init.status;
}

/** Joins one instance's vNode and task records. */
export function instanceView(id: string, dir: string): InstanceView {
  const vnodes = readJsonDir<VnodeRecord>(join(dir, 'state', 'vnodes'));
  const tasks = readJsonDir<TaskRecord>(join(dir, 'state', 'tasks'));
  const mgr = managerOf(dir);
  const views = vnodes.map((v): VnodeView => {
    const members = new Set(v.members);
    const mine = tasks.filter((t) => t.vnode === v.name || members.has(`${t.namespace}/${t.id}`));
    const pods = new Map<string, PodView>();
    for (const t of mine.filter((x) => x.kind === 'sandbox')) {
      const a = annotationsOf(t.bundle);
      pods.set(t.id, {
        id: t.id,
        name: a[SANDBOX_NAME] ?? '',
        namespace: a[SANDBOX_NAMESPACE] ?? '',
        uid: a[SANDBOX_UID] ?? '',
        status: status(t),
        containers: [],
      });
    }
    for (const t of mine.filter((x) => x.kind === 'container')) {
      const a = annotationsOf(t.bundle);
      const sandbox = t.sandboxId ?? '';
      let pod = pods.get(sandbox);
      if (!pod) {
        pod = { id: sandbox, name: a[SANDBOX_NAME] ?? '', namespace: a[SANDBOX_NAMESPACE] ?? '', uid: a[SANDBOX_UID] ?? '', status: 'unknown', containers: [] };
        pods.set(sandbox, pod);
      }
      pod.containers.push({
        id: t.id,
        name: a[CONTAINER_NAME] ?? '',
        status: status(t),
        pid: t.init.status === 'running' ? t.init.hostPid : 0,
        ...(t.init.exitStatus !== undefined ? { exitStatus: t.init.exitStatus } : {}),
      });
    }
    return {
      instance: id,
      name: v.name,
      key: v.key,
      initPid: v.initPid,
      alive: isAlive(v.initPid, v.initStartTime),
      range: { start: v.range.start, size: v.range.size, end: v.range.start + v.range.size - 1 },
      createdAt: v.createdAt,
      members: v.members,
      pods: [...pods.values()].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`)),
      tasks: mine.filter((t) => t.kind === 'task').map((t) => ({ namespace: t.namespace, id: t.id, status: status(t), pid: t.init.status === 'running' ? t.init.hostPid : 0 })),
    };
  });
  views.sort((a, b) => a.name.localeCompare(b.name));
  return { id, dir, managerPid: mgr.pid, managerAlive: mgr.alive, containerdAddress: mgr.address, vnodes: views };
}

/** Every manager instance under runDir (a directory with state/vnodes), or only `only`. */
export function readInstances(runDir: string, only?: string): InstanceView[] {
  let names: string[];
  try { names = readdirSync(runDir); } catch { return []; }
  const out: InstanceView[] = [];
  for (const n of names.sort()) {
    if (only !== undefined && n !== only) continue;
    const dir = join(runDir, n);
    try { readdirSync(join(dir, 'state', 'vnodes')); } catch { continue; }
    out.push(instanceView(n, dir));
  }
  return out;
}

/** Namespace inodes of a live process ("user:[4026532…]"), for inspect. */
export function namespacesOf(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const ns of ['user', 'pid', 'mnt', 'ipc', 'uts', 'net', 'cgroup']) {
    try { out[ns] = readlinkSync(`/proc/${pid}/ns/${ns}`); } catch { /* gone */ }
  }
  return out;
}
