// Turns the spec containerd wrote into the spec vnode hands to the OCI runtime, and an
// exec's process spec into the one the runtime runs: the container joins its vNode's
// user namespace, "host" namespaces become the vNode's, bind mounts of kubelet/
// containerd pod files become ID-mapped (repeating the mount flags the kernel locks),
// host paths resolve inside the vNode's private directory, devices become binds of
// host nodes, vnodefs covers /proc and /sys (mounts, masked paths, the vnode-bind
// hook), "rro" mounts become "ro" plus the hook (recursive-read-only.ts), oomScoreAdj
// stays >= 0, a systemd-driver cgroupsPath becomes its unit's directory. This is the only
// code that edits a spec for runc. Pure: all host facts come in as input.
import { posix } from 'node:path';
import { CgroupPathError, systemdScopeOf } from '../cgroup/index.js';
import { planRecursiveReadOnly } from './recursive-read-only.js';
import type { OciDevice, OciMount, OciNamespace, OciSpec } from './spec.js';
import { InvalidSpecError } from './spec.js';

export interface VnodeView {
  uidBase: number;
  gidBase: number;
  size: number;
  /** Namespace files of the vNode as the OCI runtime sees them (it runs in the vNode's PID namespace). */
  nsPath(type: 'user' | 'pid' | 'network' | 'ipc' | 'uts'): string;
  /** Host directory standing for the vNode's "/" for hostPath volumes. */
  hostPathRoot: string;
  /** The vNode's hostname (its UTS namespace's), which pods sharing that namespace see. */
  hostname: string;
}

/** A vnodefs file the runtime will not bind (below /proc): the vnode-bind hook does. */
export interface HookBind {
  mode: 'ro' | 'rw';
  source: string;
  /** Path inside the container. */
  destination: string;
}

/** What puts a vnodefs entry's files into the container (ProcView.placement). */
export interface VnodefsPlacement {
  /** Bind mounts over /proc and /sys, after the container's own. */
  mounts: OciMount[];
  /** Host-only /proc files to mask. */
  maskedPaths: string[];
  hookBinds: HookBind[];
  /** The vnode-bind helper binary, run as a createContainer hook. */
  bindHelper: string;
}

export interface PlanInput {
  spec: OciSpec;
  vnode: VnodeView;
  /** Where the ID-mapped root filesystem is mounted. */
  rootfsPath: string;
  /** Host path prefixes whose bind mounts are kubelet/containerd pod files: ID-mapped, not redirected. */
  podFilePrefixes: string[];
  /** Path components that mark containerd's own per-pod files wherever its root/state dirs are. */
  podFileMarkers?: string[];
  /** Directory under which ID-mapped clones of bind sources are placed (one entry per mount). */
  idmapDir: string;
  /** Host PID -> PID in the vNode, for namespace paths of the form /proc/<pid>/ns/<type>. Undefined when unknown. */
  vnodePidOf(hostPid: number): number | undefined;
  /** Network namespace path to use instead of one owned by the host's user namespace (the pod's own). */
  podNetnsPath?: string;
  /** Whether this spec is a pod sandbox (its network namespace becomes the pod's). */
  isSandbox: boolean;
  /** A host path of the device node with this type and number (the spec names only its path in the container). */
  hostDeviceNode?(type: 'c' | 'b', major: number, minor: number, preferred: string): string | undefined;
  /** The vnodefs entry this container reads /proc and /sys from; absent = the kernel's files. */
  vnodefs?: VnodefsPlacement;
  /**
   * The per-mount options (rw, nosuid, nodev, ...) of the host mount `path` lives on.
   * An ID-mapped clone keeps its source mount's flags, and inside a user namespace
   * nosuid/nodev/noexec are locked: a read-only remount by the runtime must repeat them.
   */
  mountOptionsOf?(path: string): readonly string[] | undefined;
  /** The vnode-bind helper (for recursive read-only mounts); default: the vnodefs placement's. */
  bindHelper?: string;
  /** The UTS namespace the spec joins by path (a pod container joining its sandbox's) is the vNode's: a hostNetwork pod's. */
  joinsVnodeUts?: boolean;
}

export interface IdmapStep {
  source: string;
  target: string;
  /** The container mounts it read-only (where tmpfs cannot be ID-mapped, a read-only file may be copied). */
  readonly: boolean;
}

export interface Plan {
  spec: OciSpec;
  /** ID-mapped clones to create before the runtime runs (target gets created as file or dir like source). */
  idmaps: IdmapStep[];
  /** Private hostPath locations to create (owned by the vNode's root) before the runtime runs. */
  hostPaths: { path: string; hostSource: string }[];
  /** True when the container gets a fresh network namespace that becomes the pod's. */
  newPodNetwork: boolean;
  /**
   * The sandbox spec's network namespace path when it is a file (containerd's netns,
   * CNI_NETNS), which newPodNetwork replaces: the links CNI put there are adopted by the
   * new namespace (docs/networking.md).
   */
  containerdNetns?: string;
  /** A sandbox without a network namespace of its own (hostNetwork): it joins the vNode's. */
  hostNetwork: boolean;
  /** Files to write (owned by the vNode's root, 0644) before the runtime runs: mount sources the plan made. */
  files: { path: string; content: string }[];
}

const DEFAULT_DEVICES = new Set(['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty', '/dev/ptmx', '/dev/console']);
const NS_PROC_PATH = /^\/proc\/(\d+)\/ns\/(pid|net|ipc|uts|user|mnt|cgroup)$/;

function isBind(m: OciMount): boolean {
  return m.type === 'bind' || m.type === 'rbind' || (m.options ?? []).some((o) => o === 'bind' || o === 'rbind');
}

function under(path: string, prefix: string): boolean {
  const p = posix.normalize(path);
  const q = posix.normalize(prefix).replace(/\/$/, '');
  return p === q || p.startsWith(`${q}/`);
}

function isPrivileged(spec: OciSpec): boolean {
  // containerd's privileged spec: every capability in the bounding set and no masked paths.
  const caps = spec.process?.capabilities?.bounding ?? [];
  return caps.includes('CAP_SYS_ADMIN') && (spec.linux?.maskedPaths ?? []).length === 0;
}

export function planSpec(input: PlanInput): Plan {
  const { vnode } = input;
  const spec: OciSpec = structuredClone(input.spec);
  spec.linux ??= {};
  const linux = spec.linux;
  const idmaps: IdmapStep[] = [];
  const hostPaths: Plan['hostPaths'] = [];

  // --- namespaces ---------------------------------------------------------------
  const given = new Map<string, OciNamespace>();
  for (const ns of linux.namespaces ?? []) {
    if (given.has(ns.type)) throw new InvalidSpecError(`linux.namespaces lists "${ns.type}" twice`);
    given.set(ns.type, ns);
  }
  const translate = (ns: OciNamespace): OciNamespace => {
    if (!ns.path) return { type: ns.type };
    const m = NS_PROC_PATH.exec(ns.path);
    if (!m) return ns;
    const inVnode = input.vnodePidOf(Number(m[1]));
    if (inVnode === undefined) {
      throw new InvalidSpecError(`namespace ${ns.type} path ${ns.path} names process ${m[1]}, which is not in this container's vNode`);
    }
    return { type: ns.type, path: `/proc/${inVnode}/ns/${m[2]}` };
  };

  let newPodNetwork = false;
  let containerdNetns: string | undefined;
  const out: OciNamespace[] = [{ type: 'user', path: vnode.nsPath('user') }];
  // A namespace the pod shares with the host in Kubernetes terms (absent from the
  // spec) is shared with the vNode instead: hostPID, hostIPC, hostNetwork.
  for (const [type, vnodeType] of [
    ['pid', 'pid'],
    ['ipc', 'ipc'],
    ['uts', 'uts'],
  ] as const) {
    const ns = given.get(type);
    out.push(ns ? translate(ns) : { type, path: vnode.nsPath(vnodeType) });
  }
  const net = given.get('network');
  // hostNetwork pods share the host's UTS namespace in Kubernetes terms: here the vNode's,
  // whose hostname containerd's /etc/hostname and HOSTNAME (the host's name) must match.
  const vnodeUts = given.get('uts')?.path ? input.joinsVnodeUts === true : !given.get('uts');
  if (!net) {
    out.push({ type: 'network', path: vnode.nsPath('network') });
  } else if (!net.path) {
    out.push({ type: 'network' });
  } else if (NS_PROC_PATH.test(net.path)) {
    out.push(translate(net));
  } else if (input.isSandbox) {
    // A network namespace made by the host's CNI belongs to the host's user namespace:
    // nothing in the vNode could configure it and the runtime cannot join it after
    // the user namespace. The sandbox gets a fresh one owned by the vNode.
    out.push({ type: 'network' });
    newPodNetwork = true;
    containerdNetns = net.path;
  } else if (input.podNetnsPath) {
    out.push({ type: 'network', path: input.podNetnsPath });
  } else {
    throw new InvalidSpecError(`container joins network namespace ${net.path}, but its pod sandbox is not known to this vNode; create the sandbox first`);
  }
  out.push({ type: 'mount' });
  out.push({ type: 'cgroup' });
  const time = given.get('time');
  if (time) out.push(time);
  linux.namespaces = out;
  // runc wants the mappings even when it joins an existing user namespace.
  linux.uidMappings = [{ containerID: 0, hostID: vnode.uidBase, size: vnode.size }];
  linux.gidMappings = [{ containerID: 0, hostID: vnode.gidBase, size: vnode.size }];

  // --- cgroup -----------------------------------------------------------------------
  // The systemd driver's "slice:prefix:name" becomes its unit's directory: the runtime
  // runs with the cgroupfs driver there and the manager registers the scope with
  // systemd by the init's host PID (cgroup/systemd-unit.ts says why).
  try {
    const scope = systemdScopeOf(linux.cgroupsPath);
    if (scope) linux.cgroupsPath = scope.dir;
  } catch (e) {
    if (e instanceof CgroupPathError) throw new InvalidSpecError(`linux.cgroupsPath: ${e.message}`);
    throw e;
  }

  // --- process --------------------------------------------------------------------
  if (spec.process) clampOomScoreAdj(spec.process);
  if (vnodeUts && spec.process?.env) spec.process.env = withHostname(spec.process.env, vnode.hostname);

  // --- sysctls ---------------------------------------------------------------------
  const sysctl = linux.sysctl as Record<string, string> | undefined;
  const ping = sysctl?.['net.ipv4.ping_group_range'];
  if (sysctl && ping) {
    // containerd 2.x opens ICMP sockets to every GID ("0 2147483647"); inside the
    // vNode only its own GIDs exist, and the kernel refuses unmapped ones (EINVAL).
    const [lo = 0, hi = 0] = ping.trim().split(/\s+/).map(Number);
    const max = vnode.size - 1;
    sysctl['net.ipv4.ping_group_range'] = `${Math.min(lo, max)} ${Math.min(hi, max)}`;
  }

  // --- root and mounts ------------------------------------------------------------
  spec.root = { ...(spec.root ?? { path: '' }), path: input.rootfsPath };
  const mounts: OciMount[] = [];
  const files: Plan['files'] = [];
  let n = 0;
  for (const given of spec.mounts ?? []) {
    const m = withoutIdMapping(given);
    if (vnodeUts && m.destination === '/etc/hostname' && isBind(m)) {
      const path = posix.join(input.idmapDir, 'hostname');
      files.push({ path, content: `${vnode.hostname}\n` });
      mounts.push({ ...m, source: path });
      continue;
    }
    if (!isBind(m) || !m.source) {
      mounts.push(m);
      continue;
    }
    if (!posix.isAbsolute(m.source)) throw new InvalidSpecError(`mount ${m.destination}: bind source "${m.source}" must be an absolute path`);
    const source = posix.normalize(m.source);
    if (input.podFilePrefixes.some((p) => under(source, p)) || (input.podFileMarkers ?? []).some((mk) => source.includes(`/${mk}/`))) {
      const target = posix.join(input.idmapDir, String(n++));
      idmaps.push({ source, target, readonly: (m.options ?? []).includes('ro') });
      const locked = (input.mountOptionsOf?.(source) ?? []).filter((o) => LOCKED_FLAGS.has(o));
      mounts.push(locked.length > 0 ? { ...m, source: target, options: [...new Set([...(m.options ?? []), ...locked])] } : { ...m, source: target });
    } else {
      // hostPath: the vNode's "/" is a private directory, never the host's.
      const privatePath = posix.join(vnode.hostPathRoot, source);
      hostPaths.push({ path: privatePath, hostSource: source });
      mounts.push({ ...m, source: privatePath });
    }
  }
  spec.mounts = mounts;

  // --- devices ----------------------------------------------------------------------
  if (isPrivileged(spec) && linux.devices) {
    // Privileged means privileged inside the vNode: the host's devices stay out.
    linux.devices = linux.devices.filter((d) => DEFAULT_DEVICES.has(d.path));
  } else if (linux.devices) {
    // In a user namespace runc cannot mknod, so it bind-mounts the host node at the
    // device's *container* path, whatever device that is on the host. A device given
    // under another name becomes a bind mount of the host node with its number instead;
    // the cgroup rule that allows it stays.
    const kept: OciDevice[] = [];
    for (const d of linux.devices) {
      const type = d.type === 'b' ? 'b' : d.type === 'c' || d.type === 'u' ? 'c' : undefined;
      const node = type && d.major !== undefined && d.minor !== undefined ? input.hostDeviceNode?.(type, d.major, d.minor, d.path) : undefined;
      if (!type || !input.hostDeviceNode || node === d.path) {
        kept.push(d);
        continue;
      }
      if (!node) throw new InvalidSpecError(`device ${d.path} (${type} ${d.major}:${d.minor}): no node with that number under the host's /dev; give the device by its host path`);
      mounts.push({ destination: d.path, type: 'bind', source: node, options: ['bind'] });
    }
    linux.devices = kept;
  }

  // --- vnodefs ----------------------------------------------------------------------
  if (input.vnodefs) placeVnodefs(spec, input.vnodefs, input.rootfsPath);
  planRecursiveReadOnly(spec, input.rootfsPath, input.bindHelper ?? input.vnodefs?.bindHelper);

  const hostNetwork = input.isSandbox && !net;
  return { spec, idmaps, hostPaths, newPodNetwork, hostNetwork, files, ...(containerdNetns ? { containerdNetns } : {}) };
}

const LOCKED_FLAGS = new Set(['nosuid', 'nodev', 'noexec']);

/**
 * A mount without the ID mapping containerd 2.x gives it for a pod with its own user
 * namespace (hostUsers: false): the mappings name the range kubelet asked for, which
 * the vNode's user namespace replaces and does not map. runc 1.1 ignores them; crun
 * (and runc ≥ 1.2) would build that mapping inside the vNode and fail ("clone:
 * Operation not permitted"). vnode maps pod files into the vNode's range itself
 * (the ID-mapped clones above).
 */
function withoutIdMapping(m: OciMount): OciMount {
  if (!m.uidMappings && !m.gidMappings && !m.options?.some((o) => o === 'idmap' || o === 'ridmap')) return m;
  const { uidMappings: _u, gidMappings: _g, ...rest } = m;
  return m.options ? { ...rest, options: m.options.filter((o) => o !== 'idmap' && o !== 'ridmap') } : rest;
}

/** A negative score needs CAP_SYS_RESOURCE on the host, which a vNode never has. */
function clampOomScoreAdj(p: { oomScoreAdj?: number }): void {
  if ((p.oomScoreAdj ?? 0) < 0) p.oomScoreAdj = 0;
}

function placeVnodefs(spec: OciSpec, v: VnodefsPlacement, rootfsPath: string): void {
  const linux = spec.linux!;
  spec.mounts = [...(spec.mounts ?? []), ...v.mounts];
  linux.maskedPaths = [...new Set([...(linux.maskedPaths ?? []), ...v.maskedPaths])];
  if (v.hookBinds.length === 0) return;
  // In the container's mount namespace before pivot_root: destinations are below the rootfs.
  // What the runtime makes read-only (/proc/sys unless privileged) stays read-only here too:
  // its read-only remount does not reach mounts made below it.
  const ro = linux.readonlyPaths ?? [];
  const modeOf = (b: HookBind) => (ro.some((p) => b.destination === p || b.destination.startsWith(`${p}/`)) ? 'ro' : b.mode);
  const args = v.hookBinds.flatMap((b) => [modeOf(b), b.source, posix.join(rootfsPath, b.destination)]);
  const hooks = (spec.hooks ?? {}) as Record<string, { path: string; args?: string[] }[]>;
  hooks.createContainer = [...(hooks.createContainer ?? []), { path: v.bindHelper, args: ['vnode-bind', ...args] }];
  spec.hooks = hooks;
}

/**
 * The process spec an exec runs with (runc exec --process): containerd's, with the
 * terminal the request asked for and oomScoreAdj clamped like the container's.
 * Throws InvalidSpecError when it names no program.
 */
export function planExecProcess(given: unknown, terminal: boolean, vnodeHostname?: string): Record<string, unknown> {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new InvalidSpecError('the process spec must be a JSON object');
  const args = (given as { args?: unknown }).args;
  if (!Array.isArray(args) || args.length === 0) throw new InvalidSpecError('the process spec has no args');
  const spec: Record<string, unknown> = { ...(structuredClone(given) as Record<string, unknown>), terminal };
  clampOomScoreAdj(spec as { oomScoreAdj?: number });
  // an exec into a container in the vNode's UTS namespace (hostNetwork): containerd copies the host's name
  if (vnodeHostname !== undefined && Array.isArray(spec['env'])) spec['env'] = withHostname(spec['env'] as string[], vnodeHostname);
  return spec;
}

const withHostname = (env: string[], hostname: string) => env.map((e) => (e.startsWith('HOSTNAME=') ? `HOSTNAME=${hostname}` : e));
