// `vnode doctor [-o json]`: checks this machine for what vnode needs (DESIGN.md, "Host
// requirements"), trying the risky ones for real (a user namespace, an ID-mapped mount),
// and says exactly what to change. Exit 1 when a check FAILs; WARNs do not fail.
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_PREFIX, installedNodeChecks } from '../install/index.js';
import { helperPath } from '../manager/index.js';
import { hasEffectiveCap } from '../sys/index.js';
import { idmapBind, throwawayUserns, umount, type ThrowawayUserns } from '../sys/index.js';
import { containerdCandidates, containerdVersion, localPaths, runningPid } from './containerd-local.js';
import { systemHasVnode, systemSocket } from './containerd-select.js';
import { ExitCode, UsageError } from './errors.js';
import { hostCgroupLayout, type CgroupLayout } from '../cgroup/index.js';
import { checkRuntimes, unifiedControllersAt } from './doctor-runtime.js';
import { formatTable } from './output.js';
import { parseOutput } from './ps.js';
import { cliLog } from './log.js';
import { checkCgroupDriver, checkDelegation, controllersDetail } from './doctor-cgroups.js';

export type Status = 'OK' | 'WARN' | 'FAIL';

export interface CheckResult {
  name: string;
  status: Status;
  detail: string;
  /** What to change (WARN/FAIL). */
  fix?: string;
}

export const DOCTOR_USAGE = `Usage: vnode doctor [-o json] [--prefix DIR]

Checks the kernel, user namespaces, /dev/fuse, ID-mapped mounts (for real, on a temporary
directory), overlayfs, the OCI runtime, containerd, cgroups (version and controllers, the
cgroup driver in containerd's config, delegation, for real on a temporary cgroup),
CAP_SYS_RESOURCE and the built vnode-init; prints OK/WARN/FAIL with what to change. Exit 1 when a check fails.
On a node where vnode install ran (its record in --prefix, default ${DEFAULT_PREFIX}): the vnode
handler in containerd's live config, the shim, the CNI chain and the manager too.
`;

const ok = (name: string, detail: string): CheckResult => ({ name, status: 'OK', detail });
const warn = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'WARN', detail, fix });
const fail = (name: string, detail: string, fix: string): CheckResult => ({ name, status: 'FAIL', detail, fix });

function read(path: string): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch { return undefined; }
}

/** "6.18.44-fc" → [6, 18]. */
export function kernelVersion(rel: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)/.exec(rel);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

export function checkKernel(rel = release()): CheckResult {
  const v = kernelVersion(rel);
  if (!v) return warn('kernel', `cannot parse kernel release "${rel}"`, 'vnode needs Linux ≥ 6.1');
  if (v[0] > 6 || (v[0] === 6 && v[1] >= 3)) return ok('kernel', `Linux ${rel} (≥ 6.3); tmpfs pod files: ID-mapped`);
  // 6.1 and 6.2 cannot ID-map tmpfs; the manager takes another path (docs/kernel-6.1.md)
  if (v[0] === 6 && v[1] >= 1) return ok('kernel', `Linux ${rel} (≥ 6.1, < 6.3); tmpfs pod files: mirrored (secrets, projected tokens) / chowned (emptyDir Memory, /dev/shm)`);
  return fail('kernel', `Linux ${rel}`, 'upgrade to Linux ≥ 6.1 (ID-mapped mounts of overlayfs lower layers)');
}

function checkUserns(): CheckResult {
  const max = Number((read('/proc/sys/user/max_user_namespaces') ?? '0').trim());
  if (!(max > 0)) return fail('user namespaces', `user.max_user_namespaces = ${max}`, 'sysctl -w user.max_user_namespaces=65536 (and persist it in /etc/sysctl.d)');
  const r = spawnSync('unshare', ['-U', 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (r.error) return fail('user namespaces', `cannot run unshare: ${r.error.message}`, 'apt-get install util-linux');
  if (r.status !== 0) return fail('user namespaces', `unshare -U failed: ${r.stderr.trim()}`, 'enable user namespaces (kernel.unprivileged_userns_clone / user.max_user_namespaces, or a seccomp/LSM policy that blocks them)');
  return ok('user namespaces', `unshare -U works; user.max_user_namespaces = ${max}`);
}

function checkFuse(): CheckResult {
  try {
    if (!statSync('/dev/fuse').isCharacterDevice()) return fail('/dev/fuse', '/dev/fuse is not a character device', 'modprobe fuse (and apt-get install fuse3)');
    closeSync(openSync('/dev/fuse', 'r+'));
    return ok('/dev/fuse', 'present and opens read-write');
  } catch (err) {
    return fail('/dev/fuse', (err as Error).message, 'modprobe fuse (and apt-get install fuse3); in a container, pass --device /dev/fuse');
  }
}

function nearestExisting(path: string): string {
  let p = path;
  while (!existsSync(p) && p !== '/') p = dirname(p);
  return p;
}

/** Makes an ID-mapped mount for real: a throwaway user namespace mapping 0 → HOST_BASE, a temp dir under vnode's data dir. */
async function checkIdmap(): Promise<CheckResult> {
  const name = 'ID-mapped mounts';
  const HOST_BASE = 4_000_000_000;
  const base = nearestExisting(localPaths().dataDir);
  let tmp: string | undefined;
  let userns: ThrowawayUserns | undefined;
  const dst = () => join(tmp!, 'dst');
  let mounted = false;
  try {
    try {
      userns = await throwawayUserns([{ inside: 0, outside: HOST_BASE, size: 65536 }], [{ inside: 0, outside: HOST_BASE, size: 65536 }]);
    } catch (e) {
      return fail(name, (e as Error).message, 'apt-get install util-linux');
    }
    tmp = mkdtempSync(join(base, '.vnode-doctor-'));
    mkdirSync(join(tmp, 'src'));
    mkdirSync(dst());
    writeFileSync(join(tmp, 'src', 'file'), 'x');
    idmapBind(join(tmp, 'src'), dst(), userns.path);
    mounted = true;
    const st = statSync(join(dst(), 'file'));
    if (st.uid !== HOST_BASE) return fail(name, `a file owned by 0 shows as uid ${st.uid} through the ID-mapped mount (expected ${HOST_BASE})`, 'use Linux ≥ 6.1 with a filesystem that supports ID-mapped mounts (ext4, xfs, btrfs, tmpfs)');
    const fstype = (() => { try { return execFileSync('stat', ['-f', '-c', '%T', base], { encoding: 'utf8' }).trim(); } catch { return '?'; } })();
    return ok(name, `work on ${base} (${fstype}): uid 0 shows as ${HOST_BASE} through the mount`);
  } catch (err) {
    return fail(name, `on ${base}: ${(err as Error).message}`, 'use Linux ≥ 6.1 and put /var/lib/vnode (VNODE_DATA_DIR) on a filesystem with ID-mapped mount support (ext4, xfs, btrfs, tmpfs)');
  } finally {
    if (mounted) { try { umount(dst()); } catch { /* reported by rm below */ } }
    userns?.close();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

function checkOverlay(): CheckResult {
  const has = () => /\toverlay$/m.test(read('/proc/filesystems') ?? '');
  if (has()) return ok('overlayfs', 'overlay is in /proc/filesystems');
  spawnSync('modprobe', ['overlay'], { stdio: 'ignore', timeout: 10_000 });
  if (has()) return ok('overlayfs', 'loaded with modprobe overlay');
  return fail('overlayfs', 'overlay is not in /proc/filesystems and modprobe overlay did not load it', 'build or load the overlay module (modprobe overlay); containerd\'s overlayfs snapshotter needs it');
}

function findOnPath(bin: string): string | undefined {
  for (const d of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin']) {
    if (!d) continue;
    const p = join(d, bin);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return undefined;
}

function checkOciRuntime(): CheckResult {
  const found: string[] = [];
  for (const b of ['runc', 'crun']) {
    const p = findOnPath(b);
    if (!p) continue;
    const v = (() => { try { return execFileSync(p, ['--version'], { encoding: 'utf8', timeout: 10_000 }).split('\n')[0]!.trim(); } catch { return 'version unknown'; } })();
    found.push(`${p} (${v})`);
  }
  if (found.length === 0) return fail('OCI runtime', 'neither runc nor crun found', 'apt-get install runc (or crun)');
  return ok('OCI runtime', found.join('; '));
}

function checkContainerd(): CheckResult {
  const seen: string[] = [];
  let best: { path: string; major: number; minor: number; version: string } | undefined;
  for (const p of containerdCandidates()) {
    if (!existsSync(p)) continue;
    try {
      const v = containerdVersion(p);
      seen.push(`${v.version} (${p})`);
      best ??= v;
    } catch (err) {
      seen.push(`${p}: ${(err as Error).message}`);
    }
  }
  if (!best) return fail('containerd', 'no containerd binary found', 'apt-get install containerd, or bash scripts/setup-host.sh for 1.7 and 2.x, or set VNODE_CONTAINERD_BIN');
  const list = seen.join('; ');
  if (best.major >= 2 || (best.major === 1 && best.minor >= 7)) return ok('containerd', `vnode run would start ${best.version}; found ${list}`);
  if (best.major === 1 && best.minor === 6) return warn('containerd', `only 1.6 found: ${list}`, 'containerd 1.7 or 2.x is the supported target: bash scripts/setup-host.sh (downloads them), or set VNODE_CONTAINERD_BIN');
  return fail('containerd', `too old: ${list}`, 'install containerd 1.7 or 2.x (bash scripts/setup-host.sh), or set VNODE_CONTAINERD_BIN');
}

/** The host's cgroup layout as doctor reports it (detection: src/cgroup, from /proc/self/mountinfo). */
export function cgroupLayout(host: CgroupLayout = hostCgroupLayout()): { layout: 'v2' | 'hybrid' | 'v1'; detail: string; missing: string[] } {
  const wanted = ['cpu', 'memory', 'pids'] as const;
  const ctrls = wanted.filter((c) => host.v1[c]);
  const missing = wanted.filter((c) => !host.v1[c]);
  if (host.mode === 'v2') return { layout: 'v2', detail: `unified (cgroup v2) at ${host.unified}`, missing: [] };
  if (host.mode === 'hybrid') return { layout: 'hybrid', detail: `hybrid: v1 controllers (${ctrls.join(', ')}) + unified hierarchy at ${host.unified}`, missing };
  return { layout: 'v1', detail: `cgroup v1 (${ctrls.join(', ')})`, missing };
}

/** Which containerd `vnode run` would use, without starting anything. */
async function checkRunTarget(): Promise<CheckResult> {
  const name = 'vnode run target';
  if (process.env.CONTAINERD_ADDRESS) return ok(name, `$CONTAINERD_ADDRESS = ${process.env.CONTAINERD_ADDRESS}`);
  const sys = systemSocket();
  if (await systemHasVnode(sys)) return ok(name, `${sys} (it has a vnode runtime handler)`);
  const paths = localPaths();
  const pid = runningPid(paths);
  const why = existsSync(sys) ? `${sys} has no vnode runtime handler` : `no ${sys}`;
  if (pid !== undefined) return ok(name, `vnode's own containerd (pid ${pid}, ${paths.socket}); ${why}`);
  return ok(name, `vnode's own containerd, started by the first vnode run (${paths.socket}); ${why}`);
}

function checkCgroups(): CheckResult {
  const { detail, missing } = cgroupLayout();
  const c = missing[0];
  if (c) return fail('cgroups', `${detail}; the ${c} controller is not mounted`, `mount the ${c} cgroup controller (or boot with cgroup v2: systemd.unified_cgroup_hierarchy=1)`);
  return ok('cgroups', `${detail}; ${controllersDetail()}`);
}

/** CAP_SYS_RESOURCE (bit 24 of CapEff): without it a negative oom_score_adj is refused. */
export function hasCapSysResource(status = read('/proc/self/status') ?? ''): boolean {
  return hasEffectiveCap(status, 24);
}

function checkCapSysResource(): CheckResult {
  if (hasCapSysResource()) return ok('CAP_SYS_RESOURCE', 'present: negative oom_score_adj allowed');
  return warn('CAP_SYS_RESOURCE', 'root lacks CAP_SYS_RESOURCE: a negative oom_score_adj is refused',
    'set restrict_oom_score_adj = true in containerd\'s CRI config (vnode\'s own containerd does); the runc handler also needs a runc that does not ask for a negative one');
}

function checkHelperBuilt(): CheckResult {
  const built: string[] = [];
  try {
    for (const h of ['vnode-init', 'vnode-tty', 'vnode-hold'] as const) {
      const p = helperPath(h);
      accessSync(p, constants.X_OK);
      built.push(p);
    }
    return ok('vnode-init', `built: ${built.join(', ')}`);
  } catch (err) {
    return fail('vnode-init', (err as Error).message, 'npm ci && npm run build (needs gcc and libc6-dev for the static helpers)');
  }
}

function checkHelpers(): CheckResult[] {
  const out: CheckResult[] = [];
  const cni = ['bridge', 'host-local', 'loopback'].filter((b) => !existsSync(join('/usr/lib/cni', b)));
  out.push(cni.length === 0
    ? ok('CNI plugins', '/usr/lib/cni: bridge, host-local, loopback')
    : warn('CNI plugins', `missing in /usr/lib/cni: ${cni.join(', ')}`, 'apt-get install containernetworking-plugins (vnode\'s own containerd needs them)'));
  out.push(existsSync('/usr/bin/catatonit')
    ? ok('pause image source', '/usr/bin/catatonit (vnode builds the sandbox image from it)')
    : warn('pause image source', '/usr/bin/catatonit missing', 'apt-get install catatonit (vnode\'s own containerd builds its pause image from it)'));
  out.push(existsSync('/bin/busybox') && !readFileSync('/bin/busybox').subarray(0, 4096).includes('/ld-linux')
    ? ok('busybox image source', '/bin/busybox is static (vnode image build-busybox)')
    : warn('busybox image source', 'no static /bin/busybox', 'apt-get install busybox-static (the README demo\'s busybox image is built from it)'));
  return out;
}

/** Devices people commonly give to pods (GPUs, KVM, FUSE, TUN). */
const SHARED_DEVICE_DIRS = ['/dev/dri', '/dev/net'];
const SHARED_DEVICES = ['/dev/kvm', '/dev/fuse', '/dev/net/tun', '/dev/nvidiactl', '/dev/nvidia-uvm', '/dev/nvidia0'];

/**
 * A device given to a vNode pod is the host's node, owned by host root, which the vNode
 * does not map: inside it shows as nobody:nogroup and opens only through its "other"
 * permission bits. Says which of the usual devices would not work.
 */
export function checkDevices(devDirs = SHARED_DEVICE_DIRS, devices = SHARED_DEVICES): CheckResult {
  const found = [...devices];
  for (const d of devDirs) {
    try {
      for (const e of readdirSync(d)) found.push(join(d, e));
    } catch {
      /* not on this machine */
    }
  }
  const closed: string[] = [];
  const open: string[] = [];
  for (const p of [...new Set(found)]) {
    try {
      const st = statSync(p);
      if (!st.isCharacterDevice() && !st.isBlockDevice()) continue;
      ((st.mode & 0o006) === 0o006 ? open : closed).push(p);
    } catch {
      /* absent */
    }
  }
  const note = 'devices given to vNode pods show as nobody:nogroup inside and open only with "other" rw on the host';
  if (closed.length === 0) return ok('devices', open.length ? `${note}; ${open.join(', ')} have it` : note);
  return warn('devices', `${note}; ${closed.join(', ')} lack it`, `chmod o+rw (or a udev rule with MODE="0666") for the ones pods should use`);
}

/** Which runtime the manager uses, and whether a crun can run containerd 2.x pods on this host (doctor-runtime.ts). */
function runtimeChecks(): CheckResult[] {
  const host = hostCgroupLayout();
  return checkRuntimes(host.mode === 'hybrid' ? unifiedControllersAt(host.unified) : undefined);
}

export async function runChecks(prefix = DEFAULT_PREFIX): Promise<CheckResult[]> {
  const installed = await installedNodeChecks(prefix);
  return [
    checkKernel(),
    checkUserns(),
    checkFuse(),
    await checkIdmap(),
    checkOverlay(),
    checkOciRuntime(),
    ...runtimeChecks(),
    checkContainerd(),
    await checkRunTarget(),
    checkCgroups(),
    checkCgroupDriver(),
    checkDelegation(),
    checkCapSysResource(),
    checkHelperBuilt(),
    ...checkHelpers(),
    checkDevices(),
    ...installed,
  ];
}

export function doctorTable(results: CheckResult[]): string {
  return formatTable(['CHECK', 'STATUS', 'DETAIL'], results.map((r) => [r.name, r.status, r.fix ? `${r.detail} → ${r.fix}` : r.detail]));
}

export async function doctorCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { output: { type: 'string', short: 'o' }, prefix: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(DOCTOR_USAGE);
    return ExitCode.ok;
  }
  const output = parseOutput(parsed.values.output, ['json']);
  if (process.getuid?.() !== 0) cliLog({ component: 'vnode doctor' }).warn('not root: some checks (ID-mapped mounts, /dev/fuse) will fail for that reason alone');
  const results = await runChecks(parsed.values.prefix);
  const failed = results.some((r) => r.status === 'FAIL');
  if (output === 'json') process.stdout.write(JSON.stringify({ ok: !failed, checks: results }, null, 2) + '\n');
  else {
    process.stdout.write(doctorTable(results));
    const w = results.filter((r) => r.status === 'WARN').length;
    const f = results.filter((r) => r.status === 'FAIL').length;
    process.stdout.write(`\n${f} failed, ${w} warning(s), ${results.length - f - w} ok\n`);
  }
  return failed ? ExitCode.failed : ExitCode.ok;
}
