// Which cgroup hierarchies a host has, decided from /proc/self/mountinfo alone:
//   v1     - v1 controller hierarchies only;
//   hybrid - v1 controllers plus a cgroup2 hierarchy that holds none of them (systemd's
//            "hybrid" layout, e.g. /sys/fs/cgroup/unified: the CI machines);
//   v2     - the unified hierarchy only, /sys/fs/cgroup is cgroup2 (every current
//            distribution; the kernel 6.1 guests);
//   none   - no cgroup mounted.
// A v1 hierarchy that carries only a name (name=systemd) is not a controller: a v2 host
// that also mounts one for old tools is still v2.
import { readFileSync } from 'node:fs';
import { isV1Controller, type V1Controller } from './location.js';

export type CgroupMode = 'v1' | 'hybrid' | 'v2' | 'none';

export interface CgroupLayout {
  mode: CgroupMode;
  /** Mount point of each v1 controller vnode reads (joint mounts give one point to several). */
  v1: Partial<Record<V1Controller, string>>;
  /** Mount point of the cgroup2 hierarchy, if any (on hybrid hosts it has no controllers). */
  unified?: string;
}

// Every v1 controller the kernel has; the mount options of a v1 hierarchy list the
// controllers bound to it among flags such as rw, xattr, noprefix, name=....
const KERNEL_V1_CONTROLLERS = new Set([
  'cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio', 'blkio', 'perf_event', 'hugetlb', 'pids', 'rdma', 'misc', 'debug',
]);

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The layout that /proc/self/mountinfo text `mountinfo` describes. */
export function parseCgroupLayout(mountinfo: string): CgroupLayout {
  // Mounts of a hierarchy's root come first: a bind of a sub-cgroup (root other than
  // "/", as in a container without a cgroup namespace) shows only part of it.
  const v1: Partial<Record<V1Controller, string>> = {};
  const v1Sub: Partial<Record<V1Controller, string>> = {};
  const unifiedMounts: string[] = [];
  const unifiedSub: string[] = [];
  let v1Controllers = false;
  for (const line of mountinfo.split('\n')) {
    // "<id> <parent> <maj:min> <root> <mount point> <options> [optional...] - <fstype> <source> <super options>"
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    const mountPoint = pre[4];
    if (mountPoint === undefined) continue;
    const mp = unescapeMountField(mountPoint);
    const atRoot = pre[3] === '/';
    if (fstype === 'cgroup2') (atRoot ? unifiedMounts : unifiedSub).push(mp);
    else if (fstype === 'cgroup') {
      for (const opt of superOpts.split(',')) {
        if (!KERNEL_V1_CONTROLLERS.has(opt)) continue;
        v1Controllers = true;
        if (isV1Controller(opt)) (atRoot ? v1 : v1Sub)[opt] ??= mp;
      }
    }
  }
  for (const [c, mp] of Object.entries(v1Sub) as [V1Controller, string][]) v1[c] ??= mp;
  // The hierarchy at /sys/fs/cgroup (v2) or /sys/fs/cgroup/unified (hybrid) is the
  // host's; another cgroup2 mount (a container's view, a test's) only if there is none.
  const all = [...unifiedMounts, ...unifiedSub];
  const unified = all.find((m) => m === '/sys/fs/cgroup') ?? all.find((m) => m === '/sys/fs/cgroup/unified') ?? all[0];
  const mode: CgroupMode = v1Controllers ? (unified ? 'hybrid' : 'v1') : unified ? 'v2' : 'none';
  return unified === undefined ? { mode, v1 } : { mode, v1, unified };
}

let host: CgroupLayout | undefined;

/** This process's layout (the host's, for the manager and vnodefs), read once. */
export function hostCgroupLayout(): CgroupLayout {
  if (host) return host;
  let text = '';
  try {
    text = readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    /* no /proc: no cgroups either */
  }
  host = parseCgroupLayout(text);
  return host;
}

/** Is this host's cgroup hierarchy unified (cgroup v2 only)? */
export function isUnifiedHost(): boolean {
  return hostCgroupLayout().mode === 'v2';
}

/**
 * The layout of a standard host with the v1 controllers at /sys/fs/cgroup/<controller>
 * or the unified hierarchy at /sys/fs/cgroup, for callers that know only which.
 */
export function standardLayout(unified: boolean): CgroupLayout {
  if (unified) return { mode: 'v2', v1: {}, unified: '/sys/fs/cgroup' };
  return { mode: 'v1', v1: { memory: '/sys/fs/cgroup/memory', cpu: '/sys/fs/cgroup/cpu', cpuacct: '/sys/fs/cgroup/cpuacct', cpuset: '/sys/fs/cgroup/cpuset', pids: '/sys/fs/cgroup/pids', blkio: '/sys/fs/cgroup/blkio' } };
}
