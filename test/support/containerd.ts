// Starts a PRIVATE containerd (1.6 from /usr/bin, 1.7 and 2.x from .cache/containerd) with
// its own root, state, sockets, CNI network, runc state and cgroup parent under one temp dir,
// and tears everything down again (processes, mounts, netns, bridge, cgroups, dirs).
//
// Config version 2 for 1.6/1.7, version 3 for 2.x, written with smol-toml. CRI is set up as
// ENVIRONMENT.md describes: restrict_oom_score_adj, a local pause image as sandbox image,
// a bridge + host-local CNI conflist, cgroupfs, runtimes `runc` (through a wrapper that
// zeroes negative oomScoreAdj) and `vnode`: on 1.x io.containerd.vnode.v2 → containerd-shim-vnode-v2
// from the repo's bin/ in containerd's PATH; on 2.x, as vnode install writes it, io.containerd.runc.v2
// with runtime_path naming that shim (CRI 2.1–2.3 read features only of that type).
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync, closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, readlinkSync,
  rmSync, rmdirSync, writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { stringify } from 'smol-toml';
import { cacheDir, repoBinDir } from './paths.js';
import { BUSYBOX_IMAGE, PAUSE_IMAGE, importTestImages } from './images.js';
import { CriClient } from '../../src/k8s/cri/index.js';
import { managerInstance } from '../../src/shim/instance.js';
import { bridgeConflist, containerdConfig, freeSubnet, runtimesOf, writeCniConfig, type CniFiles } from '../../src/install/containerd-config.js';
import { helperPath } from '../../src/manager/helpers.js';
import { expandSlice } from '../../src/cgroup/index.js';

export type ContainerdVersion = '1.6' | '1.7' | '2';

/** Versions whose binaries are present on this machine (1.6: /usr/bin; 1.7, 2: .cache after setup-host.sh). */
export function availableContainerdVersions(): ContainerdVersion[] {
  return (['1.6', '1.7', '2'] as const).filter((v) => existsSync(join(containerdBinDir(v), 'containerd')));
}

export function containerdBinDir(version: ContainerdVersion): string {
  return version === '1.6' ? '/usr/bin' : join(cacheDir, 'containerd', version, 'usr', 'bin');
}

export interface StartContainerdOptions {
  version: ContainerdVersion;
  /** Extra environment for containerd; shims and the vnode manager inherit it (e.g. { VNODE_PER_POD: 'true' }). */
  env?: Record<string, string>;
  /** Extra keys merged into the `vnode` runtime table, e.g. { options: { Foo: 'bar' }, pod_annotations: ['*'] }. */
  vnodeRuntime?: Record<string, unknown>;
  /** Additional runtime handlers: name → runtime table (runtime_type, options, ...). */
  runtimes?: Record<string, Record<string, unknown>>;
  /** Directory searched first for containerd-shim-vnode-v2 (default: the repo's bin/). */
  vnodeBinDir?: string;
  /** Put the oomScoreAdj-zeroing `runc` wrapper first in containerd's PATH (default true; false shows why it is needed). */
  runcWrapper?: boolean;
  /** On stop(), first stop and remove every pod sandbox through CRI, as kubelet would (default true). */
  removePodsOnStop?: boolean;
  /** Import the busybox and pause test images after start (default true). */
  importImages?: boolean;
  /** containerd log level (default 'info'). */
  logLevel?: string;
  /** Dual-stack pod network: an IPv6 ULA /64 range beside the IPv4 /24 (ipv6Subnet on the instance). */
  ipv6?: boolean;
  /** Last edits to the config object before it is written (keys as in the TOML file). */
  configure?: (config: Record<string, any>) => void;
  /** Writes the config file's text from the config object (default: smol-toml's stringify); for hand-written, commented configs. */
  renderConfig?: (config: Record<string, any>) => string;
  /** Where the config file goes (default: <dir>/config.toml), e.g. below a stand-in host root. */
  configPath?: string;
  /** How long to wait for containerd and its CRI plugin (default 30 s). */
  startTimeoutMs?: number;
  /**
   * The cgroup driver of the runc and vnode handlers, as kubelet's cgroupDriver would be set
   * (default: VNODE_TEST_CGROUP_DRIVER, else cgroupfs). systemd sets SystemdCgroup = true and
   * gives pods systemd slices; it needs a host booted with systemd (the VM lane's guest).
   */
  cgroupDriver?: CgroupDriver;
  /**
   * Run containerd as this transient systemd unit (systemd-run, e.g.
   * "vnode-test-containerd-ab12cd34.service") the way a node's containerd.service runs it:
   * Type=notify, KillMode=process, Delegate=yes, a minimal environment (PATH, the VNODE_*
   * variables, the instance marker), output appended to the log. stop() stops the unit and
   * resets it. Needs systemd as PID 1.
   */
  systemdUnit?: string;
}

export type CgroupDriver = 'cgroupfs' | 'systemd';

/** The driver the tests use unless a test says otherwise: VNODE_TEST_CGROUP_DRIVER (cgroupfs, systemd). */
export function testCgroupDriver(): CgroupDriver {
  const v = process.env['VNODE_TEST_CGROUP_DRIVER'] ?? 'cgroupfs';
  if (v !== 'cgroupfs' && v !== 'systemd') throw new Error(`VNODE_TEST_CGROUP_DRIVER=${v}: use cgroupfs or systemd`);
  return v;
}

/**
 * The OCI runtime the vnode manager drives in the tests: VNODE_TEST_RUNTIME, "runc" (the
 * default: the manager's own choice, runc on PATH), "crun" (the one
 * scripts/setup-host.sh puts in .cache/crun/bin/crun, else crun on PATH) or a path. The
 * harness passes it to containerd, and so to the manager, as VNODE_RUNTIME; the plain
 * runc handler the tests compare against stays runc.
 */
export function testRuntime(): string | undefined {
  const v = process.env['VNODE_TEST_RUNTIME'];
  if (!v || v === 'runc') return undefined;
  if (v === 'crun') {
    const cached = join(cacheDir, 'crun', 'bin', 'crun');
    return existsSync(cached) ? cached : 'crun';
  }
  if (!v.includes('/')) throw new Error(`VNODE_TEST_RUNTIME=${v}: use runc, crun or a path`);
  if (!existsSync(v)) throw new Error(`VNODE_TEST_RUNTIME=${v}: no such file`);
  return v;
}

/** The cgroup directory (from a hierarchy's root) of an instance's pods parent: itself under cgroupfs, its slice path under systemd. */
export function cgroupParentPath(rec: { cgroupParent: string; cgroupDriver?: CgroupDriver }): string {
  return rec.cgroupDriver === 'systemd' ? expandSlice(rec.cgroupParent) : rec.cgroupParent;
}

export interface ContainerdInstance {
  readonly version: ContainerdVersion;
  /** What `containerd --version` printed, e.g. "1.7.24~ds1". */
  readonly fullVersion: string;
  /** Short unique id; containerd runs with VNODE_TEST_CONTAINERD=<id> in its environment. */
  readonly id: string;
  /** Temp dir that holds everything below. */
  readonly dir: string;
  readonly root: string;
  readonly state: string;
  /** gRPC socket path (containerd API and CRI). */
  readonly address: string;
  readonly ttrpcAddress: string;
  readonly configPath: string;
  readonly logPath: string;
  readonly cniConfDir: string;
  readonly bridge: string;
  readonly subnet: string;
  /** The pod network's IPv6 range (options.ipv6), if any. */
  readonly ipv6Subnet?: string;
  /**
   * Parent of this instance's pods: a cgroupfs path ("/vnode-test-ab12cd34") or, under the
   * systemd driver, a slice ("vnode_test_ab12cd34.slice"); flows put pods below it.
   */
  readonly cgroupParent: string;
  readonly cgroupDriver: CgroupDriver;
  /** runc --root used by the runc handler. */
  readonly runcRoot: string;
  /** PATH given to containerd (wrapper dir, vnode bin dir, containerd's bin dir, system PATH). */
  readonly pathEnv: string;
  readonly ctrPath: string;
  readonly pid: number;
  readonly images: { busybox: string; pause: string };
  /** A CRI client connected to this instance (closed by stop()). */
  readonly cri: CriClient;
  /** Runs ctr against this instance: ctr('-n', 'k8s.io', 'images', 'ls'). Rejects with stderr on failure. */
  ctr(...args: string[]): Promise<string>;
  /** containerd's log so far. */
  log(): string;
  /** Registers extra cleanup to run in stop() after processes are killed and before mounts are removed. */
  onStop(fn: () => void | Promise<void>): void;
  /** Kills containerd and everything it started, unmounts, removes the bridge, cgroups and dirs. Idempotent. */
  stop(): Promise<void>;
}

const INSTANCE_ENV = 'VNODE_TEST_CONTAINERD';
const DIR_PREFIX = 'vnode-ctd-';
const live = new Set<InstanceRecord>();

interface InstanceRecord {
  id: string;
  dir: string;
  bridge: string;
  cgroupParent: string;
  cgroupDriver?: CgroupDriver;
  address: string;
  /** containerd's pid (the first one: a unit's restart gives it another). */
  pid?: number;
  /** The transient systemd unit containerd runs in (StartContainerdOptions.systemdUnit). */
  unit?: string;
  /** The process that started the instance, and its start time (to recognise pid reuse). */
  owner: { pid: number; start: string };
}

// ---------------------------------------------------------------------------------------------
export async function startContainerd(opts: StartContainerdOptions): Promise<ContainerdInstance> {
  if (process.getuid?.() !== 0) throw new Error('startContainerd needs root');
  const { version } = opts;
  const binDir = containerdBinDir(version);
  const containerdPath = join(binDir, 'containerd');
  const ctrPath = join(binDir, 'ctr');
  if (!existsSync(containerdPath)) {
    throw new Error(`containerd ${version} not found at ${containerdPath}: run scripts/setup-host.sh`);
  }
  reapStaleInstances();

  const id = randomBytes(4).toString('hex');
  const dir = mkdtempSync(join(tmpdir(), `${DIR_PREFIX}${id}-`));
  const cgroupDriver = opts.cgroupDriver ?? testCgroupDriver();
  if (cgroupDriver === 'systemd' && !existsSync('/run/systemd/system')) throw new Error('the systemd cgroup driver needs a host booted with systemd (/run/systemd/system)');
  if (opts.systemdUnit && !existsSync('/run/systemd/system')) throw new Error('a containerd systemd unit needs a host booted with systemd (/run/systemd/system)');
  const rec: InstanceRecord = {
    id, dir, bridge: `vnt${id}`, cgroupDriver, address: join(dir, 'containerd.sock'), unit: opts.systemdUnit,
    cgroupParent: cgroupDriver === 'systemd' ? `vnode_test_${id}.slice` : `/vnode-test-${id}`,
    owner: { pid: process.pid, start: procStartTime(process.pid) },
  };
  live.add(rec);
  installExitHandler();
  let child: ChildProcess | undefined;
  let cri: CriClient | undefined;
  try {
    const root = join(dir, 'root');
    const state = join(dir, 'state');
    const ttrpcAddress = join(dir, 'containerd.sock.ttrpc');
    const wrapperDir = join(dir, 'bin');
    const cniConfDir = join(dir, 'cni', 'net.d');
    const runcRoot = join(dir, 'runc');
    const logPath = join(dir, 'containerd.log');
    const configPath = opts.configPath ?? join(dir, 'config.toml');
    for (const d of [root, state, wrapperDir, cniConfDir, runcRoot, join(dir, 'cni', 'ipam')]) mkdirSync(d, { recursive: true });
    writeInstanceRecord(rec);

    if (opts.runcWrapper !== false) writeRuntimeWrapper(join(wrapperDir, 'runc'));
    const subnet = freeSubnet();
    if (!subnet) throw new Error('no free 10.2xx.y.0/24 subnet');
    // a ULA /64 per instance (RFC 4193), from the instance's random id: no two instances share one
    // (groups without leading zeros, as addresses are printed: fd76:278:… not fd76:0278:…)
    const group = (hex: string) => parseInt(hex, 16).toString(16);
    const ipv6Subnet = opts.ipv6 ? `fd76:${group(rec.id.slice(0, 4))}:${group(rec.id.slice(4, 8))}::/64` : undefined;
    const cni = writeCniConfig(dirname(cniConfDir), '10-vnode-test.conflist', bridgeConflist({ name: `vnode-test-${rec.id}`, bridge: rec.bridge, subnet, ipamDir: join(rec.dir, 'cni', 'ipam'), ...(ipv6Subnet ? { ipv6Subnet } : {}) }), helperPath('vnode-cni'));

    const vnodeBinDir = opts.vnodeBinDir ?? repoBinDir;
    const pathEnv = [wrapperDir, vnodeBinDir, binDir, dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']
      .filter((p, i, a) => a.indexOf(p) === i)
      .join(':');

    const config = buildConfig(version, { root, state, address: rec.address, ttrpcAddress, cniConfDir, runcRoot, dir, logLevel: opts.logLevel ?? 'info', cni, vnodeShim: join(vnodeBinDir, 'containerd-shim-vnode-v2') });
    const runtimes = runtimesOf(config, majorOf(version));
    if (cgroupDriver === 'systemd') {
      for (const name of ['runc', 'vnode']) {
        const table = runtimes[name] as { options?: Record<string, unknown> };
        table.options = { ...table.options, SystemdCgroup: true };
      }
    }
    Object.assign(runtimes['vnode'] as Record<string, unknown>, opts.vnodeRuntime ?? {});
    for (const [name, table] of Object.entries(opts.runtimes ?? {})) runtimes[name] = table;
    opts.configure?.(config);
    mkdirSync(dirname(configPath), { recursive: true });
    writeFileSync(configPath, opts.renderConfig ? opts.renderConfig(config) : stringify(config));

    const fullVersion = execFileSync(containerdPath, ['--version'], { encoding: 'utf8' }).trim().split(/\s+/)[2] ?? 'unknown';

    const runtime = testRuntime();
    // the vnode runtime's CNI chain, for the manager's attachment of a vNode's own netns, and
    // hostNetwork pods allowed (tests never port-forward to one; docs/networking.md)
    const ctdEnv: Record<string, string> = { VNODE_CNI_CONF_DIR: cni.vnodeCniConfDir, VNODE_CNI_BIN_DIRS: cni.cniBinDir, VNODE_ALLOW_HOST_NETWORK: 'true', ...(runtime ? { VNODE_RUNTIME: runtime } : {}), ...opts.env, PATH: pathEnv, [INSTANCE_ENV]: id, TMPDIR: process.env['TMPDIR'] ?? '/tmp' };
    let pid: number;
    let exited: () => string | undefined;
    if (opts.systemdUnit) {
      const unit = opts.systemdUnit;
      // a unit's environment is its own (not the test runner's): the VNODE_* settings only
      const env = { ...Object.fromEntries(Object.entries(process.env).filter(([k, v]) => k.startsWith('VNODE_') && v !== undefined)) as Record<string, string>, ...ctdEnv };
      const props = ['Type=notify', 'KillMode=process', 'Delegate=yes', 'Restart=no', 'LimitNOFILE=infinity', 'LimitNPROC=infinity', 'LimitCORE=infinity', 'TasksMax=infinity', `StandardOutput=append:${logPath}`, `StandardError=append:${logPath}`];
      try {
        execFileSync('systemd-run', [`--unit=${unit}`, `--description=vnode test containerd ${id}`, ...props.flatMap((p) => ['-p', p]), ...Object.entries(env).map(([k, v]) => `--setenv=${k}=${v}`), containerdPath, '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'], timeout: opts.startTimeoutMs ?? 120_000, encoding: 'utf8' });
      } catch (err) {
        throw new Error(`systemd-run --unit=${unit} ${containerdPath}: ${((err as { stderr?: string }).stderr ?? '').trim() || (err as Error).message}`);
      }
      pid = unitMainPid(unit);
      if (!(pid > 0)) throw new Error(`${unit} has no main pid after systemd-run (${unitProperty(unit, 'ActiveState')})`);
      exited = () => { const st = unitProperty(unit, 'ActiveState'); return st === 'active' || st === 'activating' || st === 'reloading' ? undefined : `containerd's unit ${unit} is ${st}`; };
    } else {
      const logFd = openSync(logPath, 'a');
      child = spawn(containerdPath, ['--config', configPath], {
        env: { ...process.env, ...ctdEnv },
        stdio: ['ignore', logFd, logFd],
        detached: true, // own process group: a Ctrl-C of the test runner does not kill it before cleanup
      });
      closeSync(logFd);
      if (child.pid === undefined) throw new Error('containerd did not start');
      pid = child.pid;
      let exit: string | undefined;
      child.on('exit', (code, sig) => { exit = `containerd exited (code ${code}, signal ${sig})`; });
      child.unref();
      exited = () => exit;
    }
    rec.pid = pid;
    writeInstanceRecord(rec);

    // VNODE_TEST_CTR_TIMEOUT_MS: importing a 350 MB image takes minutes under the VM lane's TCG
    const ctrTimeout = Number(process.env['VNODE_TEST_CTR_TIMEOUT_MS'] ?? 60_000);
    const ctr = (...args: string[]) => run(ctrPath, ['--address', rec.address, ...args], ctrTimeout);
    const log = () => { try { return readFileSync(logPath, 'utf8'); } catch { return ''; } };

    await waitForCri(ctr, exited, log, opts.startTimeoutMs ?? 30_000);
    const client = await CriClient.connect(rec.address, { waitMs: opts.startTimeoutMs ?? 30_000 });
    cri = client;

    const cleanups: (() => void | Promise<void>)[] = [];
    let stopped = false;
    const instance: ContainerdInstance = {
      version, fullVersion, id, dir, root, state, address: rec.address, ttrpcAddress, configPath, logPath, cniConfDir,
      bridge: rec.bridge, subnet, ...(ipv6Subnet ? { ipv6Subnet } : {}), cgroupParent: rec.cgroupParent, cgroupDriver, runcRoot, pathEnv, ctrPath, pid,
      images: { busybox: BUSYBOX_IMAGE, pause: PAUSE_IMAGE },
      cri: client, ctr, log,
      onStop(fn) { cleanups.push(fn); },
      async stop() {
        if (stopped) return;
        stopped = true;
        if (opts.removePodsOnStop !== false && !exited()) await removeAllPods(client, id, 20_000);
        client.close();
        if (rec.unit) stopUnit(rec.unit);
        else await terminate(pid, 5_000);
        killInstanceProcesses(rec);
        for (const fn of cleanups.reverse()) {
          try { await fn(); } catch (err) { console.error(`containerd ${id}: cleanup hook failed:`, err); }
        }
        cleanupInstance(rec);
        live.delete(rec);
      },
    };
    if (opts.importImages !== false) await importTestImages(ctr);
    return instance;
  } catch (err) {
    if (child?.pid) await terminate(child.pid, 3_000);
    if (rec.unit) stopUnit(rec.unit);
    cri?.close();
    const logText = (() => { try { return readFileSync(join(dir, 'containerd.log'), 'utf8'); } catch { return ''; } })();
    killInstanceProcesses(rec);
    cleanupInstance(rec);
    live.delete(rec);
    const tail = logText.split('\n').filter((l) => /level=(error|fatal|warn)/.test(l)).slice(-15).join('\n');
    if (err instanceof Error) err.message += tail ? `\n--- containerd ${version} log (warnings/errors) ---\n${tail}` : '';
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// config

export interface ContainerdConfigPaths {
  root: string; state: string; address: string; ttrpcAddress: string; cniConfDir: string; runcRoot: string; dir: string; logLevel: string;
  /** vnode's CNI setup (writeCniConfig); without it every runtime uses cniConfDir and /usr/lib/cni. */
  cni?: CniFiles;
  /** containerd-shim-vnode-v2: on 2.x the vnode handler is declared as io.containerd.runc.v2 with this runtime_path, as vnode install does. */
  vnodeShim?: string;
}

const majorOf = (version: ContainerdVersion): number => (version === '2' ? 2 : 1);

/** The config object (TOML keys) the launcher writes: vnode's own builder, with runc as default and test paths. */
export function buildConfig(version: ContainerdVersion, p: ContainerdConfigPaths): Record<string, any> {
  return containerdConfig({
    major: majorOf(version),
    root: p.root,
    state: p.state,
    address: p.address,
    ttrpcAddress: p.ttrpcAddress,
    dir: p.dir,
    cniConfDir: p.cniConfDir,
    ...p.cni,
    sandboxImage: PAUSE_IMAGE,
    defaultRuntime: 'runc',
    runcRoot: p.runcRoot,
    logLevel: p.logLevel,
    netnsUnderStateDir: true,
    ...(p.vnodeShim ? { vnodeShim: p.vnodeShim } : {}),
  });
}

/**
 * containerd asks for a negative oom_score_adj (restrict_oom_score_adj does not cover the
 * sandbox of 2.x) and root lacks CAP_SYS_RESOURCE here; runc 1.1.5 then fails with "can't get
 * final child's PID from pipe: EOF". Zero it in the bundle's config.json / exec process.json.
 * `runtime`: the binary run in the end (default runc; the benchmarks also wrap crun).
 * `hideFiles`: files /dev/null is bound over, in a private mount namespace, for the runtime
 * (bench/pod-start.ts: hybrid cgroup.controllers for a plain crun handler, which vnode's
 * manager does itself, docs/runtime.md).
 */
export function writeRuntimeWrapper(path: string, runtime = '/usr/sbin/runc', o: { hideFiles?: string[] } = {}) {
  const hide = o.hideFiles ?? [];
  const exec = hide.length === 0
    ? `exec ${runtime} "$@"`
    : `exec /usr/bin/unshare --mount --propagation private /bin/sh -c '${hide.map((f) => `mount --bind /dev/null ${f} && `).join('')}exec "$0" "$@"' ${runtime} "$@"`;
  writeFileSync(path, `#!/bin/sh
# vnode test harness: zero a negative process.oomScoreAdj, then run the real ${runtime.split('/').pop()}.
bundle=""; process=""; prev=""
for a in "$@"; do
  case "$prev" in --bundle|-b) bundle="$a" ;; --process|-p) process="$a" ;; esac
  case "$a" in --bundle=*) bundle="\${a#--bundle=}" ;; --process=*) process="\${a#--process=}" ;; esac
  prev="$a"
done
fix() { [ -f "$1" ] && grep -q '"oomScoreAdj": *-' "$1" && sed -i -E 's/"oomScoreAdj": *-[0-9]+/"oomScoreAdj":0/' "$1"; return 0; }
[ -n "$bundle" ] && fix "$bundle/config.json"
[ -n "$process" ] && fix "$process"
${exec}
`);
  chmodSync(path, 0o755);
}

// ---------------------------------------------------------------------------------------------
// start / wait

function run(file: string, args: string[], timeout: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout, maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')}: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

async function waitForCri(ctr: (...a: string[]) => Promise<string>, exited: () => string | undefined, log: () => string, timeoutMs: number) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const ex = exited();
    if (ex) throw new Error(`${ex} before it was ready`);
    try {
      const plugins = await ctr('plugins', 'ls');
      const line = plugins.split('\n').find((l) => /^io\.containerd\.grpc\.v1\s+cri\s/.test(l));
      if (line && /\sok\s*$/.test(line)) return;
      if (line && /\serror\s*$/.test(line)) throw new Error(`CRI plugin failed to load: ${line}`);
      last = line ?? 'no cri plugin listed';
    } catch (err) {
      if (err instanceof Error && err.message.startsWith('CRI plugin failed')) throw err;
      last = String(err);
    }
    await sleep(100);
  }
  throw new Error(`containerd did not become ready in ${timeoutMs} ms (${last})\n${log().split('\n').slice(-10).join('\n')}`);
}

/** Stops and removes every sandbox (which removes its containers), within budgetMs in total. */
async function removeAllPods(cri: CriClient, id: string, budgetMs: number) {
  const deadline = Date.now() + budgetMs;
  const left = () => Math.max(1_000, deadline - Date.now());
  try {
    const pods = await cri.call<{ items: { id: string }[] }>('runtime', 'ListPodSandbox', {}, left());
    for (const p of pods.items) {
      if (Date.now() > deadline) break;
      try {
        await cri.call('runtime', 'StopPodSandbox', { pod_sandbox_id: p.id }, left());
        await cri.call('runtime', 'RemovePodSandbox', { pod_sandbox_id: p.id }, left());
      } catch (err) { console.error(`containerd ${id}: removing pod ${p.id} on stop:`, (err as Error).message); }
    }
  } catch (err) { console.error(`containerd ${id}: listing pods on stop:`, (err as Error).message); }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A property of a systemd unit (`systemctl show -p NAME --value`), '' when systemctl fails. */
export function unitProperty(unit: string, name: string): string {
  try { return execFileSync('systemctl', ['show', '-p', name, '--value', unit], { encoding: 'utf8', timeout: 30_000 }).trim(); } catch { return ''; }
}

/** The unit's MainPID (0 when it has none). */
export function unitMainPid(unit: string): number {
  return Number(unitProperty(unit, 'MainPID')) || 0;
}

/** Stops a unit (KillMode=process: its main process only; the rest is the caller's) and forgets a failed state. */
function stopUnit(unit: string) {
  try { execFileSync('systemctl', ['stop', unit], { stdio: 'ignore', timeout: 60_000 }); } catch { /* not loaded */ }
  try { execFileSync('systemctl', ['reset-failed', unit], { stdio: 'ignore', timeout: 30_000 }); } catch { /* not failed, not loaded */ }
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function terminate(pid: number, graceMs: number) {
  if (!alive(pid)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  if (alive(pid)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
  const hard = Date.now() + 2_000;
  while (alive(pid) && Date.now() < hard) await sleep(20);
}

// ---------------------------------------------------------------------------------------------
// cleanup (synchronous, so that it can also run from a process 'exit' handler)

function writeInstanceRecord(rec: InstanceRecord) {
  writeFileSync(join(rec.dir, 'instance.json'), JSON.stringify(rec));
}

function sleepSync(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function readProc(pid: string, file: string): string {
  try { return readFileSync(`/proc/${pid}/${file}`, 'latin1'); } catch { return ''; }
}

/** PIDs of processes that belong to this instance: its env marker, its paths in argv, root or cwd inside its dir, or a cgroup below its parent. */
export function instanceProcesses(rec: { id: string; dir: string; cgroupParent: string; cgroupDriver?: CgroupDriver }): number[] {
  const marker = `${INSTANCE_ENV}=${rec.id}\0`;
  const parent = cgroupParentPath(rec);
  const out: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    const env = readProc(pid, 'environ');
    let hit = env.includes(marker) || readProc(pid, 'cmdline').includes(rec.dir);
    if (!hit) {
      const cg = readProc(pid, 'cgroup');
      hit = cg.split('\n').some((l) => { const p = l.split(':')[2] ?? ''; return p === parent || p.startsWith(parent + '/'); });
    }
    if (!hit) {
      for (const link of ['root', 'cwd']) {
        try { if (readlinkSync(`/proc/${pid}/${link}`).startsWith(rec.dir + '/')) { hit = true; break; } } catch { /* gone or kernel thread */ }
      }
    }
    if (hit) out.push(Number(pid));
  }
  return out;
}

function killInstanceProcesses(rec: InstanceRecord) {
  for (let round = 0; round < 20; round++) {
    const pids = instanceProcesses(rec);
    if (pids.length === 0) return;
    for (const p of pids) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
    sleepSync(round < 5 ? 50 : 200);
  }
  const left = instanceProcesses(rec);
  if (left.length) console.error(`containerd ${rec.id}: processes still alive after SIGKILL: ${left.join(' ')}`);
}

function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Mount points at or below dir, deepest first. */
export function mountsUnder(dir: string): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const mps = text.split('\n').map((l) => unescapeMount(l.split(' ')[4] ?? '')).filter((m) => m === dir || m.startsWith(dir + '/'));
  return [...new Set(mps)].sort((a, b) => b.length - a.length);
}

function unmountAll(dir: string) {
  for (let round = 0; round < 10; round++) {
    const mps = mountsUnder(dir);
    if (mps.length === 0) return;
    for (const m of mps) {
      try { execFileSync('umount', [m], { stdio: 'ignore' }); } catch {
        try { execFileSync('umount', ['-l', m], { stdio: 'ignore' }); } catch { /* retry next round */ }
      }
    }
  }
  const left = mountsUnder(dir);
  if (left.length) console.error(`cleanup: mounts still present under ${dir}: ${left.join(' ')}`);
}

/** cgroup hierarchies' mount points (v1 controllers and the unified one). */
function cgroupMounts(): string[] {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  const out: string[] = [];
  for (const l of text.split('\n')) {
    const [pre, post] = l.split(' - ');
    if (!pre || !post) continue;
    const fstype = post.split(' ')[0];
    if (fstype === 'cgroup' || fstype === 'cgroup2') out.push(unescapeMount(pre.split(' ')[4] ?? ''));
  }
  return out;
}

function removeCgroupTree(path: string) {
  let entries: string[] = [];
  try { entries = readdirSync(path, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name); } catch { return; }
  for (const e of entries) removeCgroupTree(join(path, e));
  for (let i = 0; i < 50; i++) {
    try {
      for (const p of readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
      }
    } catch { /* no procs file */ }
    try { rmdirSync(path); return; } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      sleepSync(20);
    }
  }
  console.error(`cleanup: could not remove cgroup ${path}`);
}

/** Removes the instance's cgroups, mounts, bridge and directory. Processes must already be dead. */
function cleanupInstance(rec: InstanceRecord) {
  if (rec.unit) stopUnit(rec.unit);
  // systemd owns the slices of the systemd driver: stopping the instance's slice stops every
  // pod slice and scope below it (and what is left of them is removed below)
  if (rec.cgroupDriver === 'systemd') {
    try { execFileSync('systemctl', ['stop', rec.cgroupParent], { stdio: 'ignore', timeout: 30_000 }); } catch { /* not loaded */ }
  }
  for (const m of cgroupMounts()) removeCgroupTree(join(m, cgroupParentPath(rec)));
  unmountAll(rec.dir);
  cleanupVnodeManager(rec.address);
  try {
    execFileSync('ip', ['link', 'show', rec.bridge], { stdio: 'ignore' });
    execFileSync('ip', ['link', 'del', rec.bridge], { stdio: 'ignore' });
  } catch { /* no bridge */ }
  if (mountsUnder(rec.dir).length === 0) {
    try { rmSync(rec.dir, { recursive: true, force: true, maxRetries: 3 }); } catch (err) { console.error(`cleanup: rm ${rec.dir}:`, err); }
  }
}

/** What the vnode manager of this instance kept on the host: its run and data dirs and ID leases. */
function cleanupVnodeManager(address: string) {
  const inst = managerInstance(address);
  unmountAll(inst.dir);
  rmSync(inst.dir, { recursive: true, force: true });
  rmSync(join('/var/lib/vnode', inst.id), { recursive: true, force: true });
  const pool = '/run/vnode/idpool';
  if (!existsSync(pool)) return;
  for (const f of readdirSync(pool)) {
    try {
      if ((JSON.parse(readFileSync(join(pool, f), 'utf8')) as { owner?: string }).owner?.startsWith(`${inst.dir}#`)) rmSync(join(pool, f), { force: true });
    } catch { /* not a lease */ }
  }
}

let exitHandlerInstalled = false;
function installExitHandler() {
  if (exitHandlerInstalled) return;
  exitHandlerInstalled = true;
  const cleanupAll = () => {
    for (const rec of [...live]) {
      live.delete(rec);
      if (rec.unit) stopUnit(rec.unit); // its main pid may be another one than rec.pid by now
      else if (rec.pid) { try { process.kill(rec.pid, 'SIGKILL'); } catch { /* gone */ } }
      killInstanceProcesses(rec);
      cleanupInstance(rec);
    }
  };
  process.on('exit', cleanupAll);
  // Ctrl-C / kill of the test process: clean up, then die of the same signal.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = () => {
      cleanupAll();
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

function procStartTime(pid: number): string {
  // field 22 of /proc/<pid>/stat (after the parenthesised comm, which may contain spaces)
  const stat = readProc(String(pid), 'stat');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
}

/** Cleans up instances of earlier runs whose owning test process is gone (killed with SIGKILL, crashed). */
export function reapStaleInstances() {
  let names: string[] = [];
  try { names = readdirSync(tmpdir()).filter((n) => n.startsWith(DIR_PREFIX)); } catch { return; }
  for (const n of names) {
    const dir = join(tmpdir(), n);
    let rec: InstanceRecord;
    try { rec = JSON.parse(readFileSync(join(dir, 'instance.json'), 'utf8')) as InstanceRecord; } catch { continue; }
    if ([...live].some((l) => l.id === rec.id) || !rec.owner) continue;
    if (alive(rec.owner.pid) && procStartTime(rec.owner.pid) === rec.owner.start) continue;
    if (rec.unit) stopUnit(rec.unit);
    else if (rec.pid && alive(rec.pid)) { try { process.kill(rec.pid, 'SIGKILL'); } catch { /* gone */ } }
    killInstanceProcesses(rec);
    cleanupInstance(rec);
  }
}
