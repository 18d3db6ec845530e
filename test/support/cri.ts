// Test-side CRI helpers: pod and container configs shaped the way kubelet sends them, a
// TestPod that always cleans up, waiting helpers and the CRI log-file parser.
import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CriClient, CriError, type ContainerConfig, type ContainerState, type ContainerStatus, type Device, type KeyValue,
  type LinuxContainerResources, type Mount, type PodSandboxConfig, type PortMapping, type SecurityProfile,
} from '../../src/k8s/cri/index.js';
import type { ContainerdInstance } from './containerd.js';

export { CriClient, CriError };

/** What a flow needs: a CRI client, the runtime handler to run pods with, and where pods go. */
export interface CriEnv {
  cri: CriClient;
  /** Runtime handler of RunPodSandbox ('runc', 'vnode', ...). */
  handler: string;
  /** Parent below which pods are put (kubelet's /kubepods, or kubepods.slice under the systemd driver). */
  cgroupParent: string;
  /** How cgroupParent is spelled: a cgroupfs path or a systemd slice (default cgroupfs). */
  cgroupDriver?: 'cgroupfs' | 'systemd';
  /** Directory below which pod log directories are created. */
  logRoot: string;
  images: { busybox: string; pause: string };
  /** containerd's state dir (for host-side leak checks), if known. */
  stateDir?: string;
  /** Label for messages, e.g. "containerd 1.7 / runc". */
  label?: string;
}

export function criEnv(instance: ContainerdInstance, handler: string): CriEnv {
  return {
    cri: instance.cri,
    handler,
    cgroupParent: instance.cgroupParent,
    cgroupDriver: instance.cgroupDriver,
    logRoot: join(instance.dir, 'pods'),
    images: instance.images,
    stateDir: instance.state,
    label: `containerd ${instance.version} / ${handler}`,
  };
}

export interface PodSpec {
  name?: string;
  namespace?: string;
  uid?: string;
  hostname?: string;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  /** shareProcessNamespace: containers share the pod's PID namespace. */
  sharePid?: boolean;
  privileged?: boolean;
  runAsUser?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  portMappings?: PortMapping[];
  /** DNSConfig (servers, searches, options) as kubelet sends it; default empty. */
  dns?: { servers?: string[]; searches?: string[]; options?: string[] };
  sysctls?: Record<string, string>;
  seccomp?: SecurityProfile;
  /** hostUsers: false, with the ID range kubelet would allocate (host ID, length). */
  userns?: { hostId: number; length: number };
}

export interface ContainerSpec {
  name: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: Record<string, string>;
  workingDir?: string;
  tty?: boolean;
  stdin?: boolean;
  stdinOnce?: boolean;
  privileged?: boolean;
  runAsUser?: number;
  capabilities?: { add?: string[]; drop?: string[] };
  mounts?: Mount[];
  devices?: Device[];
  resources?: LinuxContainerResources;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  seccomp?: SecurityProfile;
  readonlyRootfs?: boolean;
}

const NODE = 2, POD = 0, CONTAINER = 1;

/** What kubelet sends as masked and read-only paths for the Default proc mount type. */
export const KUBELET_MASKED_PATHS = ['/proc/asound', '/proc/acpi', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'];
export const KUBELET_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

function podNamespaces(spec: PodSpec) {
  const map = spec.userns ? [{ host_id: spec.userns.hostId, container_id: 0, length: spec.userns.length }] : [];
  return {
    network: spec.hostNetwork ? NODE : POD,
    pid: spec.hostPID ? NODE : spec.sharePid ? POD : CONTAINER,
    ipc: spec.hostIPC ? NODE : POD,
    ...(spec.userns ? { userns_options: { mode: POD, uids: map, gids: map } } : {}),
  };
}

/**
 * The pod's cgroup parent as kubelet names it: <parent>/pod<uid> under cgroupfs, or under
 * the systemd driver the child slice <parent>-pod<uid with _ for ->.slice.
 */
export function podCgroupParent(env: Pick<CriEnv, 'cgroupParent' | 'cgroupDriver'>, uid: string): string {
  if (env.cgroupDriver !== 'systemd') return `${env.cgroupParent}/pod${uid}`;
  return `${env.cgroupParent.replace(/\.slice$/, '')}-pod${uid.replace(/-/g, '_')}.slice`;
}

/** A PodSandboxConfig as kubelet builds it (labels, cgroup parent below env.cgroupParent, log directory). */
export function podSandboxConfig(env: CriEnv, spec: PodSpec = {}): PodSandboxConfig {
  const name = spec.name ?? `pod-${randomBytes(3).toString('hex')}`;
  const namespace = spec.namespace ?? 'default';
  const uid = spec.uid ?? randomUUID();
  return {
    metadata: { name, uid, namespace, attempt: 0 },
    hostname: spec.hostname ?? (spec.hostNetwork ? '' : name),
    log_directory: join(env.logRoot, `${namespace}_${name}_${uid}`),
    dns_config: { servers: spec.dns?.servers ?? [], searches: spec.dns?.searches ?? [], options: spec.dns?.options ?? [] },
    port_mappings: spec.portMappings ?? [],
    labels: {
      'io.kubernetes.pod.name': name,
      'io.kubernetes.pod.namespace': namespace,
      'io.kubernetes.pod.uid': uid,
      ...spec.labels,
    },
    annotations: { 'kubernetes.io/config.source': 'api', ...spec.annotations },
    linux: {
      cgroup_parent: podCgroupParent(env, uid),
      sysctls: spec.sysctls ?? {},
      security_context: {
        namespace_options: podNamespaces(spec),
        privileged: spec.privileged ?? false,
        ...(spec.runAsUser !== undefined ? { run_as_user: { value: spec.runAsUser } } : {}),
        seccomp: spec.seccomp ?? { profile_type: 'Unconfined' },
      },
    },
  };
}

/** A ContainerConfig as kubelet builds it for a container of the given pod. */
export function containerConfig(env: CriEnv, pod: PodSandboxConfig, spec: ContainerSpec, podSpec: PodSpec = {}): ContainerConfig {
  const envs: KeyValue[] = Object.entries(spec.env ?? {}).map(([key, value]) => ({ key, value }));
  return {
    metadata: { name: spec.name, attempt: 0 },
    image: { image: spec.image ?? env.images.busybox },
    command: spec.command ?? [],
    args: spec.args ?? [],
    working_dir: spec.workingDir ?? '',
    envs,
    mounts: spec.mounts ?? [],
    devices: spec.devices ?? [],
    labels: {
      'io.kubernetes.container.name': spec.name,
      'io.kubernetes.pod.name': pod.metadata!.name,
      'io.kubernetes.pod.namespace': pod.metadata!.namespace,
      'io.kubernetes.pod.uid': pod.metadata!.uid,
      ...spec.labels,
    },
    annotations: { 'io.kubernetes.container.restartCount': '0', ...spec.annotations },
    log_path: `${spec.name}/0.log`,
    stdin: spec.stdin ?? false,
    stdin_once: spec.stdinOnce ?? false,
    tty: spec.tty ?? false,
    linux: {
      resources: spec.resources ?? {},
      security_context: {
        namespace_options: podNamespaces(podSpec),
        privileged: spec.privileged ?? podSpec.privileged ?? false,
        ...(spec.runAsUser !== undefined ? { run_as_user: { value: spec.runAsUser } } : {}),
        capabilities: { add_capabilities: spec.capabilities?.add ?? [], drop_capabilities: spec.capabilities?.drop ?? [] },
        readonly_rootfs: spec.readonlyRootfs ?? false,
        // kubelet's defaults for the Default proc mount type (unprivileged containers only)
        ...((spec.privileged ?? podSpec.privileged) ? {} : { masked_paths: KUBELET_MASKED_PATHS, readonly_paths: KUBELET_READONLY_PATHS }),
        seccomp: spec.seccomp ?? podSpec.seccomp ?? { profile_type: 'Unconfined' },
      },
    },
  };
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Polls fn until it returns a value other than undefined/false, or throws after timeoutMs. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastErr: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) { lastErr = err; }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${String(lastErr)}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

/** A sandbox with its containers; remove() is idempotent and never throws for "not found". */
export class TestPod {
  readonly containers = new Map<string, string>(); // name → id
  private removed = false;

  private constructor(readonly env: CriEnv, readonly id: string, readonly config: PodSandboxConfig, readonly spec: PodSpec) {}

  static async run(env: CriEnv, spec: PodSpec = {}): Promise<TestPod> {
    const config = podSandboxConfig(env, spec);
    const id = await env.cri.runPodSandbox(config, env.handler);
    return new TestPod(env, id, config, spec);
  }

  get cri(): CriClient { return this.env.cri; }

  async createContainer(spec: ContainerSpec): Promise<string> {
    const id = await this.cri.createContainer(this.id, containerConfig(this.env, this.config, spec, this.spec), this.config);
    this.containers.set(spec.name, id);
    return id;
  }

  /** Create + Start. */
  async runContainer(spec: ContainerSpec): Promise<string> {
    const id = await this.createContainer(spec);
    await this.cri.startContainer(id);
    return id;
  }

  async status(containerId: string): Promise<ContainerStatus> {
    return (await this.cri.containerStatus(containerId)).status!;
  }

  async waitForState(containerId: string, state: ContainerState, timeoutMs = 30_000): Promise<ContainerStatus> {
    return waitFor(`container ${containerId} ${state}`, async () => {
      const s = await this.status(containerId);
      return s.state === state ? s : undefined;
    }, timeoutMs);
  }

  waitForExit(containerId: string, timeoutMs = 30_000): Promise<ContainerStatus> {
    return this.waitForState(containerId, 'CONTAINER_EXITED', timeoutMs);
  }

  /** Host path of the container's CRI log file. */
  logPath(name: string): string {
    return join(String(this.config.log_directory ?? ''), `${name}/0.log`);
  }

  readLog(name: string): CriLogEntry[] {
    let text = '';
    try { text = readFileSync(this.logPath(name), 'utf8'); } catch { return []; }
    return parseCriLog(text);
  }

  async stop(): Promise<void> {
    await this.cri.stopPodSandbox(this.id);
  }

  /** StopPodSandbox + RemovePodSandbox (which removes the containers). */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    await ignoreNotFound(this.cri.stopPodSandbox(this.id));
    await ignoreNotFound(this.cri.removePodSandbox(this.id));
  }
}

async function ignoreNotFound(p: Promise<unknown>): Promise<void> {
  try { await p; } catch (err) {
    if (err instanceof CriError && (err.grpcCode === 5 || /not found/i.test(err.details))) return;
    throw err;
  }
}

/** Runs fn with a fresh pod and always removes the pod afterwards (also when fn throws). */
export async function withPod<T>(env: CriEnv, spec: PodSpec, fn: (pod: TestPod) => Promise<T>): Promise<T> {
  const pod = await TestPod.run(env, spec);
  let result: T;
  try {
    result = await fn(pod);
  } catch (err) {
    await pod.remove().catch((e: Error) => console.error(`removing pod ${pod.id} after failure: ${e.message}`));
    throw err;
  }
  await pod.remove();
  return result;
}

// ---- CRI log format -------------------------------------------------------------------------
// One line per chunk: "<RFC3339Nano time> <stdout|stderr> <P|F> <text>"; P = partial line
// (continued by the next entry of the same stream), F = full line.

export interface CriLogEntry { time: string; stream: 'stdout' | 'stderr'; tag: string; text: string }

export function parseCriLog(text: string): CriLogEntry[] {
  const out: CriLogEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const m = /^(\S+) (stdout|stderr) (\S+) ?(.*)$/.exec(line);
    if (!m) throw new Error(`not a CRI log line: ${JSON.stringify(line)}`);
    out.push({ time: m[1]!, stream: m[2] as 'stdout' | 'stderr', tag: m[3]!, text: m[4]! });
  }
  return out;
}

/** Full lines of one stream, partial chunks joined. */
export function logLines(entries: CriLogEntry[], stream: 'stdout' | 'stderr'): string[] {
  const lines: string[] = [];
  let partial = '';
  for (const e of entries) {
    if (e.stream !== stream) continue;
    partial += e.text;
    if (e.tag.split(':')[0] === 'F') { lines.push(partial); partial = ''; }
  }
  if (partial) lines.push(partial);
  return lines;
}
