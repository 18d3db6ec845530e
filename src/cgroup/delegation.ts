// Delegation of a container's cgroup to the vNode's root: which directories and files
// to chown so that a privileged container (systemd, dockerd inside) can create child
// cgroups, set limits on them and move its processes between them. Pure: the
// caller reads /proc/<pid>/cgroup, /proc/self/mountinfo and /sys/kernel/cgroup/delegate.
//
// What the kernel enforces once the files are owned by the vNode's root:
//   - a new child cgroup (and every file in it) is owned by its creator (kernfs takes
//     the creator's fsuid), so the vNode's root sets the child's limits freely, but
//     every limit is hierarchical: a child never gets more than its ancestors allow;
//   - the delegated cgroup's own limit files stay host root's: its limits cannot be
//     raised from inside (EACCES);
//   - nothing outside the delegated directory is writable (and with a cgroup
//     namespace rooted at it, nothing outside is even visible);
//   - v2 only: moving a process needs write access to cgroup.procs of the common
//     ancestor of source and destination, so the delegated cgroup's cgroup.procs,
//     cgroup.threads and cgroup.subtree_control (the kernel's list is in
//     /sys/kernel/cgroup/delegate) go to the vNode's root; with nsdelegate the
//     namespace root's other files are refused (EPERM) even to a privileged writer.
import { join, posix } from 'node:path';

/** One mounted cgroup hierarchy, from mountinfo. */
export interface CgroupHierarchy {
  version: 1 | 2;
  /** v1: the controllers bound to it and its name ("name=systemd"); v2: none. */
  controllers: string[];
  mountPoint: string;
  /** The cgroup mounted there (mountinfo's root field): "/" for a whole hierarchy. */
  root: string;
}

/** One directory to hand to the vNode's root and the files in it. */
export interface DelegationTarget {
  /** "memory", "cpu,cpuacct", "name=systemd", "unified". */
  hierarchy: string;
  dir: string;
  /** The directory itself first, then the files in it (absolute paths). */
  paths: string[];
}

/**
 * v1 hierarchies not handed over: net_cls and net_prio set no limits, they tag the
 * tenant's packets for the host's traffic control (class ids, per-interface priority),
 * which is the host's policy, not the tenant's.
 */
export const V1_NOT_DELEGATED = ['net_cls', 'net_prio'] as const;

/** What v1 needs besides the directory: moving processes (cgroup.procs, tasks) into the delegated cgroup itself. */
export const V1_DELEGATED_FILES = ['cgroup.procs', 'tasks'] as const;

/** The kernel's v2 list when /sys/kernel/cgroup/delegate cannot be read (kernels before 4.15 have none). */
export const V2_DEFAULT_DELEGATED_FILES = ['cgroup.procs', 'cgroup.threads', 'cgroup.subtree_control'] as const;

/** /sys/kernel/cgroup/delegate: one file name per line (6.1: the three above plus memory.oom.group, memory.reclaim...). */
export function parseDelegateFiles(text: string | undefined): string[] {
  const names = (text ?? '').split('\n').map((l) => l.trim()).filter((l) => l && !l.includes('/'));
  return names.length > 0 ? names : [...V2_DEFAULT_DELEGATED_FILES];
}

function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

// The kernel's v1 controllers; other super options (rw, xattr, release_agent=...) are not.
const KERNEL_V1 = new Set(['cpu', 'cpuacct', 'cpuset', 'memory', 'devices', 'freezer', 'net_cls', 'net_prio', 'blkio', 'perf_event', 'hugetlb', 'pids', 'rdma', 'misc', 'debug']);

/** Every mounted cgroup hierarchy, whole-hierarchy mounts first (a bind of a sub-cgroup shows only part). */
export function parseHierarchies(mountinfo: string): CgroupHierarchy[] {
  const out: CgroupHierarchy[] = [];
  for (const line of mountinfo.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const [fstype, , superOpts = ''] = line.slice(sep + 3).split(' ');
    if ((fstype !== 'cgroup' && fstype !== 'cgroup2') || pre[3] === undefined || pre[4] === undefined) continue;
    const controllers = fstype === 'cgroup' ? superOpts.split(',').filter((o) => KERNEL_V1.has(o) || o.startsWith('name=')) : [];
    out.push({ version: fstype === 'cgroup2' ? 2 : 1, controllers, mountPoint: unescapeMountField(pre[4]), root: unescapeMountField(pre[3]) });
  }
  return out.sort((a, b) => Number(b.root === '/') - Number(a.root === '/'));
}

function sameSet(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x) => b.includes(x));
}

/** The directory of cgroup `path` (as /proc/<pid>/cgroup names it) under a mount of its hierarchy. */
function dirUnder(h: CgroupHierarchy, path: string): string | undefined {
  const rel = posix.relative(h.root, path);
  if (rel.startsWith('..') || posix.isAbsolute(rel)) return undefined;
  return join(h.mountPoint, rel);
}

export interface DelegationInput {
  /** /proc/<pid>/cgroup of a process in the container's cgroup (its init, after `runtime create`). */
  procCgroup: string;
  hierarchies: CgroupHierarchy[];
  /** File names for v2 (parseDelegateFiles of /sys/kernel/cgroup/delegate). */
  v2Files: string[];
}

/**
 * The directories and files to chown, per hierarchy the process is in: every v1
 * hierarchy (controllers and named ones such as name=systemd, which systemd inside
 * needs on v1 hosts) but net_cls/net_prio, and the unified hierarchy (on hybrid hosts
 * too: systemd inside uses it). A process in a hierarchy's root gets nothing there:
 * the root cgroup is never delegated.
 */
export function delegationPlan(input: DelegationInput): DelegationTarget[] {
  const out: DelegationTarget[] = [];
  for (const line of input.procCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const names = m[2] ? m[2].split(',') : [];
    const path = m[3]!;
    if (path === '/' || !path.startsWith('/')) continue;
    const v2 = m[1] === '0' && names.length === 0;
    if (!v2 && names.some((n) => (V1_NOT_DELEGATED as readonly string[]).includes(n))) continue;
    const h = input.hierarchies.find((x) => (v2 ? x.version === 2 : x.version === 1 && sameSet(x.controllers, names)) && dirUnder(x, path) !== undefined);
    if (!h) continue;
    const dir = dirUnder(h, path)!;
    const files = v2 ? input.v2Files : V1_DELEGATED_FILES;
    out.push({ hierarchy: v2 ? 'unified' : names.join(','), dir, paths: [dir, ...files.map((f) => join(dir, f))] });
  }
  return out;
}

/**
 * Whether a container may write its cgroup tree at all: its spec mounts a cgroup file
 * system read-write at /sys/fs/cgroup. containerd (CRI and ctr) does that only for
 * privileged containers; everyone else gets it read-only, where delegation would be
 * useless.
 */
export function mountsCgroupfsWritable(mounts: readonly { destination: string; type?: string; options?: string[] }[] | undefined): boolean {
  return (mounts ?? []).some((m) => posix.normalize(m.destination) === '/sys/fs/cgroup' && (m.type === 'cgroup' || m.type === 'cgroup2') && !(m.options ?? []).includes('ro'));
}
