// `vnode doctor`'s cgroup checks (docs/cgroups.md): the controllers the host has, the
// cgroup driver containerd's runtimes use (SystemdCgroup in their options) and whether
// it can work here, and a real delegation probe: a user namespace's root that owns a
// chowned cgroup makes a child, limits it, and is refused its own limit.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { hostCgroupLayout, parseDelegateFiles, parseHierarchies, type CgroupLayout } from '../cgroup/index.js';
import type { CheckResult } from './doctor.js';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

const ok = (name: string, detail: string): CheckResult => ({ name, status: 'OK', detail });
const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'WARN', detail, fix });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'FAIL', detail, fix });

/** The controllers a host offers: v2 the root's cgroup.controllers, v1 every mounted hierarchy's (named ones too). */
export function controllersOf(layout: CgroupLayout, rootControllers = layout.unified ? read(join(layout.unified, 'cgroup.controllers')) : undefined, mountinfo = read('/proc/self/mountinfo') ?? ''): string[] {
  if (layout.mode === 'v2') return (rootControllers ?? '').trim().split(/\s+/).filter(Boolean);
  return [...new Set(parseHierarchies(mountinfo).flatMap((h) => h.controllers))].sort();
}

/** Whether the unified hierarchy is mounted with nsdelegate (cgroup namespaces are delegation boundaries). */
export function hasNsdelegate(mountinfo: string, mountPoint: string): boolean {
  return mountinfo.split('\n').some((l) => {
    const sep = l.indexOf(' - ');
    return sep > 0 && l.slice(0, sep).split(' ')[4] === mountPoint && /^cgroup2 \S+ (\S*,)?nsdelegate(,|$)/.test(l.slice(sep + 3));
  });
}

// ---- the driver containerd's runtimes use -------------------------------------------------

export interface RuntimeDriver {
  runtime: string;
  /** SystemdCgroup in its options; undefined when the options do not say (containerd's default: false). */
  systemdCgroup: boolean | undefined;
  vnode: boolean;
}

/** The CRI runtimes of a containerd config (version 2 for 1.x, 3 for 2.x) and what SystemdCgroup each sets. */
export function runtimeDrivers(configText: string): RuntimeDriver[] {
  const c = parse(configText) as Record<string, any>;
  const plugins = (c['plugins'] ?? {}) as Record<string, any>;
  const runtimes = (plugins['io.containerd.cri.v1.runtime']?.containerd?.runtimes ?? plugins['io.containerd.grpc.v1.cri']?.containerd?.runtimes ?? {}) as Record<string, any>;
  return Object.entries(runtimes).map(([runtime, r]) => {
    const sc = r?.options?.SystemdCgroup;
    return { runtime, systemdCgroup: typeof sc === 'boolean' ? sc : undefined, vnode: runtime === 'vnode' || r?.runtime_type === 'io.containerd.vnode.v2' || /(^|\/)containerd-shim-vnode-v2$/.test(String(r?.runtime_path ?? '')) };
  });
}

const driverName = (d: RuntimeDriver) => (d.systemdCgroup ? 'systemd' : 'cgroupfs');

/**
 * The verdict on one containerd config: every runtime should use one driver (kubelet
 * has one cgroupDriver for all), the systemd driver needs systemd and busctl, and on a
 * systemd host the systemd driver is what kubeadm sets up.
 */
export function driverCheck(path: string, drivers: RuntimeDriver[], host: { systemd: boolean; busctl: boolean; mode: CgroupLayout['mode'] }): CheckResult {
  const name = 'cgroup driver';
  if (drivers.length === 0) return ok(name, `${path}: no CRI runtimes configured (containerd's default runc: cgroupfs)`);
  const list = drivers.map((d) => `${d.runtime}: ${driverName(d)}${d.systemdCgroup === undefined ? ' (default)' : ''}`).join(', ');
  const detail = `${path}: ${list}`;
  const vnode = drivers.find((d) => d.vnode);
  const systemdOnes = drivers.filter((d) => d.systemdCgroup);
  if (systemdOnes.length > 0 && !host.systemd) {
    return fail(name, `${detail}; systemd is not running on this host`, `set SystemdCgroup = false in ${systemdOnes.map((d) => d.runtime).join(', ')}'s options (and kubelet's cgroupDriver: cgroupfs), or run the node with systemd`);
  }
  if (vnode?.systemdCgroup && !host.busctl) return fail(name, `${detail}; busctl not found`, 'install systemd\'s busctl (package systemd): vnode registers each container\'s scope with systemd through it');
  if (new Set(drivers.map(driverName)).size > 1) {
    const want = vnode ? drivers.find((d) => !d.vnode) : undefined;
    return warn(name, `${detail}; the runtimes disagree`, `kubelet has one cgroupDriver for all runtimes: give every runtime the same SystemdCgroup${want ? ` (${want.runtime}'s: SystemdCgroup = ${Boolean(want.systemdCgroup)} under the vnode runtime's options)` : ''}`);
  }
  if (host.systemd && host.mode === 'v2' && systemdOnes.length === 0) {
    return warn(name, `${detail}; this host runs systemd on cgroup v2`, 'kubeadm\'s default is the systemd driver here: SystemdCgroup = true in the runtimes\' options together with kubelet\'s cgroupDriver: systemd (cgroupfs works, with two managers of one tree)');
  }
  return ok(name, detail);
}

function onPath(bin: string): boolean {
  return [...(process.env.PATH ?? '').split(':'), '/usr/bin', '/bin', '/usr/sbin', '/sbin'].some((d) => d && existsSync(join(d, bin)));
}

/** The driver check for the node's containerd config (/etc/containerd/config.toml, or $VNODE_CONTAINERD_CONFIG). */
export function checkCgroupDriver(path = process.env.VNODE_CONTAINERD_CONFIG || '/etc/containerd/config.toml'): CheckResult {
  const text = read(path);
  const host = { systemd: existsSync('/run/systemd/system'), busctl: onPath('busctl'), mode: hostCgroupLayout().mode };
  if (text === undefined) {
    return ok('cgroup driver', `no ${path}: vnode's own containerd (vnode run) uses cgroupfs; systemd ${host.systemd ? 'runs' : 'does not run'} here`);
  }
  try {
    return driverCheck(path, runtimeDrivers(text), host);
  } catch (e) {
    return warn('cgroup driver', `${path}: not TOML: ${(e as Error).message}`, 'fix the config; containerd will not start with it either');
  }
}

// ---- the delegation probe -------------------------------------------------------------------

// Outside the default ID pool (1048576-268435455) and within int32 (spawn takes no more).
const PROBE_UID = 2_000_000_000;
const MiB = 1024 * 1024;

/** The script the probe's user-namespace root runs against probe cgroup `dir`; prints "key=value" lines. */
export function probeScript(dir: string, unified: boolean): string {
  const limit = unified ? 'memory.max' : 'memory.limit_in_bytes';
  return [
    unified ? `echo +memory > ${dir}/cgroup.subtree_control || echo subtree=failed` : ':',
    `mkdir ${dir}/child && echo mkdir=ok`,
    `echo ${8 * MiB} > ${dir}/child/${limit} && echo "child=$(cat ${dir}/child/${limit})"`,
    `echo "own=$( { echo ${1024 * MiB} > ${dir}/${limit}; } 2>&1 | sed 's/.*: //')"`,
  ].join('\n');
}

/** What the probe's output says (pure: unit-tested on the two outcomes that matter). */
export function probeVerdict(out: string, stderr: string, unified: boolean, nsdelegate: boolean): CheckResult {
  const name = 'cgroup delegation';
  const kv = Object.fromEntries(out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  if (kv['own'] !== 'Permission denied') {
    return fail(name, `a delegated cgroup's own memory limit was writable by the user namespace's root (${kv['own'] || 'written'})`, 'this kernel does not enforce cgroupfs ownership as expected: do not run privileged vNode pods here');
  }
  if (kv['mkdir'] !== 'ok' || kv['child'] !== String(8 * MiB)) {
    const why = (kv['subtree'] ? 'enabling +memory in cgroup.subtree_control failed; ' : '') + (stderr.trim().split('\n').at(-1) ?? 'no output');
    const fix = unified ? 'enable the memory controller for children of the root: echo +memory > /sys/fs/cgroup/cgroup.subtree_control (systemd does this at boot)' : 'mount the memory controller (cgroup v1) or boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1)';
    return fail(name, `a user namespace's root owning a chowned cgroup could not make and limit a child: ${why}`, fix);
  }
  const detail = `a user namespace's root owning a chowned cgroup made a child and limited it to 8 MiB; its own limit stayed refused (EACCES): privileged vNode pods get their container cgroup delegated`;
  if (unified && !nsdelegate) return warn(name, `${detail}; /sys/fs/cgroup is mounted without nsdelegate`, 'mount -o remount,nsdelegate /sys/fs/cgroup (systemd mounts it so): cgroup namespaces are then delegation boundaries, so a delegated root cannot write its own interface files nor move processes out');
  return ok(name, unified ? `${detail}; nsdelegate is on` : detail);
}

/**
 * Runs the probe for real: a cgroup at the root of the memory hierarchy (v1) or the
 * unified one (v2), chowned like a delegated container cgroup to an unused host UID, and
 * `unshare -U -r` as that UID making a child. Removed afterwards.
 */
export function checkDelegation(layout: CgroupLayout = hostCgroupLayout()): CheckResult {
  const name = 'cgroup delegation';
  if (process.getuid?.() !== 0) return warn(name, 'not checked: needs root', 'run vnode doctor as root');
  const unified = layout.mode === 'v2';
  const root = unified ? layout.unified : layout.v1.memory;
  if (!root) return fail(name, 'no memory controller mounted', 'mount the memory cgroup controller, or boot with cgroup v2');
  const dir = join(root, `vnode-doctor-${process.pid}`);
  try {
    mkdirSync(dir);
  } catch (e) {
    return fail(name, `cannot make ${dir}: ${(e as Error).message}`, 'run vnode doctor as root on the host (not in a container without a writable cgroupfs)');
  }
  try {
    const files = unified ? parseDelegateFiles(read('/sys/kernel/cgroup/delegate')) : ['cgroup.procs', 'tasks'];
    chownSync(dir, PROBE_UID, PROBE_UID);
    for (const f of files) {
      try {
        chownSync(join(dir, f), PROBE_UID, PROBE_UID);
      } catch {
        /* not on this kernel */
      }
    }
    const r = spawnSync('unshare', ['-U', '-r', 'sh', '-c', probeScript(dir, unified)], { uid: PROBE_UID, gid: PROBE_UID, encoding: 'utf8', timeout: 15_000 });
    if (r.error) return fail(name, `cannot run unshare: ${r.error.message}`, 'apt-get install util-linux');
    if (/unshare:/.test(r.stderr) && !/mkdir=ok/.test(r.stdout)) return fail(name, `unshare -U -r as an unprivileged UID failed: ${r.stderr.trim()}`, 'allow unprivileged user namespaces (user.max_user_namespaces > 0; no LSM policy that blocks them)');
    return probeVerdict(r.stdout, r.stderr, unified, hasNsdelegate(read('/proc/self/mountinfo') ?? '', root));
  } finally {
    for (const d of [join(dir, 'child'), dir]) {
      try {
        rmdirSync(d);
      } catch {
        /* never made */
      }
    }
  }
}

/** The cgroups check's detail: the layout and the controllers. */
export function controllersDetail(layout: CgroupLayout = hostCgroupLayout()): string {
  const c = controllersOf(layout);
  return c.length > 0 ? `controllers: ${c.join(' ')}` : 'no controllers';
}
