// A Pod manifest → the CRI messages kubelet would send for it (kuberuntime's
// generatePodSandboxConfig / generateContainerConfig, reduced to what `vnode run`
// supports). Pure: paths and the machine's memory come in as arguments.
import { join } from 'node:path';
import type {
  Capability, ContainerConfig, KeyValue, LinuxContainerResources, Mount, NamespaceOption, PodSandboxConfig, PortMapping, SecurityProfile,
} from '../k8s/cri/index.js';
import type { ContainerSpec, PodManifest, SeccompProfile } from './manifest.js';
import { Annotation } from './pod-cleanup.js';
import { objectVolumePath, volumeKind } from './volume-files.js';

export const DEFAULT_HANDLER = 'vnode';

export interface TranslateOptions {
  /** The pod's directory, like kubelet's /var/lib/kubelet/pods/<uid>: emptyDir volumes live below it. */
  podDir: string;
  /** Root of pod log directories, like /var/log/pods. */
  logRoot: string;
  /** cgroupfs parent of pods (kubelet's /kubepods); the pod's cgroup is <parent>/pod<uid>. */
  cgroupParent: string;
  /** Bytes of memory of the machine (for the oom_score_adj of Burstable pods). */
  memoryCapacity: number;
}

const POD = 0, CONTAINER = 1, NODE = 2;

export function namespaceOptions(pod: PodManifest): NamespaceOption {
  return {
    network: pod.hostNetwork ? NODE : POD,
    pid: pod.hostPID ? NODE : pod.shareProcessNamespace ? POD : CONTAINER,
    ipc: pod.hostIPC ? NODE : POD,
  };
}

/** The handler RunPodSandbox asks for: runtimeClassName (its handler in a cluster has the same name here), else vnode. */
export function runtimeHandler(pod: PodManifest, override?: string): string {
  return override ?? pod.runtimeClassName ?? DEFAULT_HANDLER;
}

export function podLogDirectory(pod: PodManifest, logRoot: string): string {
  return join(logRoot, `${pod.namespace}_${pod.name}_${pod.uid}`);
}

export function podCgroupParent(pod: PodManifest, parent: string): string {
  return `${parent.replace(/\/$/, '')}/pod${pod.uid}`;
}

/** Host directory of an emptyDir volume, where kubelet keeps it. */
export function emptyDirPath(podDir: string, volume: string): string {
  return join(podDir, 'volumes', 'kubernetes.io~empty-dir', volume);
}

function seccompProfile(p: SeccompProfile | undefined): SecurityProfile {
  // kubelet's default without a profile is Unconfined.
  if (!p || p.type === 'Unconfined') return { profile_type: 'Unconfined' };
  if (p.type === 'RuntimeDefault') return { profile_type: 'RuntimeDefault' };
  return { profile_type: 'Localhost', localhost_ref: p.localhostProfile ?? '' };
}

export function podSandboxConfig(pod: PodManifest, o: TranslateOptions): PodSandboxConfig {
  const ports: PortMapping[] = [];
  for (const c of pod.containers) {
    for (const p of c.ports) ports.push({ protocol: p.protocol, container_port: p.containerPort, host_port: p.hostPort, host_ip: p.hostIP });
  }
  return {
    metadata: { name: pod.name, uid: pod.uid, namespace: pod.namespace, attempt: 0 },
    hostname: pod.hostNetwork ? '' : (pod.hostname ?? pod.name),
    log_directory: podLogDirectory(pod, o.logRoot),
    dns_config: { servers: [], searches: [], options: [] },
    port_mappings: ports,
    labels: {
      ...pod.labels,
      'io.kubernetes.pod.name': pod.name,
      'io.kubernetes.pod.namespace': pod.namespace,
      'io.kubernetes.pod.uid': pod.uid,
    },
    annotations: {
      ...pod.annotations,
      'kubernetes.io/config.source': 'file',
      // where `vnode delete` finds what to remove after a --detach run (pod-cleanup.ts)
      [Annotation.podDir]: o.podDir,
      [Annotation.cgroupParent]: o.cgroupParent,
      [Annotation.gracePeriod]: String(pod.terminationGracePeriodSeconds),
    },
    linux: {
      cgroup_parent: podCgroupParent(pod, o.cgroupParent),
      sysctls: pod.securityContext.sysctls,
      security_context: {
        namespace_options: namespaceOptions(pod),
        // kubelet: the sandbox is privileged when any container is.
        privileged: [...pod.initContainers, ...pod.containers].some((c) => c.securityContext.privileged === true),
        ...(pod.securityContext.runAsUser !== undefined ? { run_as_user: { value: pod.securityContext.runAsUser } } : {}),
        ...(pod.securityContext.runAsGroup !== undefined ? { run_as_group: { value: pod.securityContext.runAsGroup } } : {}),
        supplemental_groups: pod.securityContext.supplementalGroups,
        seccomp: seccompProfile(pod.securityContext.seccompProfile),
      },
    },
  };
}

// ---- resources (kubelet's pkg/kubelet/cm helpers and qos policy) -----------------------------

const QUOTA_PERIOD = 100_000;
const MIN_QUOTA = 1_000;
const MIN_SHARES = 2;
const MAX_SHARES = 262_144;

export type QosClass = 'Guaranteed' | 'Burstable' | 'BestEffort';

/** Requests default to limits, as the API server does. */
function effective(c: ContainerSpec) {
  const r = c.resources;
  return {
    cpuRequest: r.cpuRequest ?? r.cpuLimit,
    memoryRequest: r.memoryRequest ?? r.memoryLimit,
    cpuLimit: r.cpuLimit,
    memoryLimit: r.memoryLimit,
  };
}

export function qosClass(pod: PodManifest): QosClass {
  const all = [...pod.initContainers, ...pod.containers].map(effective);
  if (all.every((r) => r.cpuRequest === undefined && r.memoryRequest === undefined && r.cpuLimit === undefined && r.memoryLimit === undefined)) return 'BestEffort';
  const guaranteed = all.every((r) => r.cpuLimit !== undefined && r.memoryLimit !== undefined && r.cpuRequest === r.cpuLimit && r.memoryRequest === r.memoryLimit);
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function oomScoreAdj(pod: PodManifest, c: ContainerSpec, memoryCapacity: number): number {
  const qos = qosClass(pod);
  if (qos === 'Guaranteed') return -997;
  if (qos === 'BestEffort') return 1000;
  const request = effective(c).memoryRequest ?? 0;
  const adj = 1000 - Math.floor((1000 * request) / Math.max(1, memoryCapacity));
  return Math.min(999, Math.max(2, adj));
}

export function containerResources(pod: PodManifest, c: ContainerSpec, memoryCapacity: number): LinuxContainerResources {
  const r = effective(c);
  const out: LinuxContainerResources = {
    cpu_shares: r.cpuRequest === undefined ? MIN_SHARES : Math.min(MAX_SHARES, Math.max(MIN_SHARES, Math.floor((r.cpuRequest * 1024) / 1000))),
    oom_score_adj: oomScoreAdj(pod, c, memoryCapacity),
  };
  if (r.cpuLimit !== undefined) {
    out.cpu_period = QUOTA_PERIOD;
    out.cpu_quota = Math.max(MIN_QUOTA, Math.floor((r.cpuLimit * QUOTA_PERIOD) / 1000));
  }
  if (r.memoryLimit !== undefined) out.memory_limit_in_bytes = r.memoryLimit;
  return out;
}

// ---- containers ----------------------------------------------------------------------------

/**
 * Mounts of a container's volumeMounts: emptyDir, configMap, secret, downwardAPI and
 * projected → their directories under the pod dir, hostPath → the path (the runtime
 * decides what it means). The API-object volumes are always read-only, as kubelet mounts them.
 */
export function containerMounts(pod: PodManifest, c: ContainerSpec, podDir: string): Mount[] {
  return c.volumeMounts.map((m) => {
    const v = pod.volumes.find((vol) => vol.name === m.name)!;
    const kind = volumeKind(v);
    const base = kind ? objectVolumePath(podDir, kind, v.name) : v.emptyDir ? emptyDirPath(podDir, v.name) : v.hostPath!.path;
    return {
      container_path: m.mountPath,
      host_path: m.subPath ? join(base, m.subPath) : base,
      readonly: m.readOnly || kind !== undefined,
      propagation: 'PROPAGATION_PRIVATE',
    };
  });
}

export function containerConfig(pod: PodManifest, c: ContainerSpec, o: TranslateOptions): ContainerConfig {
  const envs: KeyValue[] = c.env.map((e) => ({ key: e.name, value: e.value }));
  const sc = c.securityContext;
  const runAsUser = sc.runAsUser ?? pod.securityContext.runAsUser;
  const runAsGroup = sc.runAsGroup ?? pod.securityContext.runAsGroup;
  const capabilities: Capability = { add_capabilities: sc.capabilities.add, drop_capabilities: sc.capabilities.drop };
  return {
    metadata: { name: c.name, attempt: 0 },
    image: { image: c.image, user_specified_image: c.image },
    command: c.command,
    args: c.args,
    working_dir: c.workingDir,
    envs,
    mounts: containerMounts(pod, c, o.podDir),
    devices: [],
    labels: {
      'io.kubernetes.container.name': c.name,
      'io.kubernetes.pod.name': pod.name,
      'io.kubernetes.pod.namespace': pod.namespace,
      'io.kubernetes.pod.uid': pod.uid,
    },
    annotations: { 'io.kubernetes.container.restartCount': '0', 'io.kubernetes.pod.terminationGracePeriod': String(pod.terminationGracePeriodSeconds) },
    log_path: `${c.name}/0.log`,
    stdin: c.stdin,
    stdin_once: c.stdinOnce,
    tty: c.tty,
    linux: {
      resources: containerResources(pod, c, o.memoryCapacity),
      security_context: {
        namespace_options: namespaceOptions(pod),
        privileged: sc.privileged ?? false,
        ...(runAsUser !== undefined ? { run_as_user: { value: runAsUser } } : {}),
        ...(runAsGroup !== undefined ? { run_as_group: { value: runAsGroup } } : {}),
        supplemental_groups: pod.securityContext.supplementalGroups,
        capabilities,
        readonly_rootfs: sc.readOnlyRootFilesystem ?? false,
        no_new_privs: sc.allowPrivilegeEscalation === false,
        seccomp: seccompProfile(sc.seccompProfile ?? pod.securityContext.seccompProfile),
      },
    },
  };
}

/** The CRI log file of a container (log_directory + log_path). */
export function containerLogPath(pod: PodManifest, c: ContainerSpec, logRoot: string): string {
  return join(podLogDirectory(pod, logRoot), c.name, '0.log');
}
