// vnode's own containerd, for machines where none is configured with the vnode runtime
// handler (the README's first `vnode run`). Started detached and reused by later runs;
// `vnode containerd stop` stops it.
//
//   <data dir>/containerd/config.toml      config v2 (1.6/1.7) or v3 (2.x), with smol-toml
//   <data dir>/containerd/root/           containerd's root (images, snapshots)
//   <data dir>/containerd/cni/            CNI conflists (bridge + host-local, ipMasq; vnode-cni last for the vnode runtime), plugins, IPAM state
//   <data dir>/images/                    locally built image archives (pause, busybox)
//   <run dir>/containerd/containerd.sock  gRPC (CRI) socket; .ttrpc next to it
//   <run dir>/containerd/state/           containerd's state
//   <run dir>/containerd/containerd.pid   "<pid> <starttime>"
//   <run dir>/containerd/containerd.log   its stdout/stderr
// <data dir> is /var/lib/vnode (VNODE_DATA_DIR), <run dir> /run/vnode (VNODE_RUN_DIR): the
// same variables the manager uses, and containerd passes them on to the shim and manager.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { stringify } from 'smol-toml';
import { CriClient } from '../k8s/cri/index.js';
import { livePidInFile, startTimeOf } from '../sys/index.js';
import { importImage, LocalImageError, pauseImage, type CtrRunner } from '../oci/index.js';
import { CliError } from './errors.js';
import type { Progress } from './output.js';
import { bridgeConflist, containerdConfig as buildContainerdConfig, freeSubnet, writeCniConfig, type CniFiles } from '../install/index.js';
import { helperPath } from '../manager/index.js';

export const PAUSE_REF = 'localhost/vnode/pause:3.9';

export interface LocalPaths {
  runDir: string;
  dataDir: string;
  dir: string;
  socket: string;
  ttrpcSocket: string;
  state: string;
  root: string;
  config: string;
  cniConfDir: string;
  cniIpamDir: string;
  pidFile: string;
  logFile: string;
  imagesDir: string;
  /** Bridge of the CNI network: vnode0 for the default dirs, vn<hash> otherwise. */
  bridge: string;
  /** Parent of the cgroups of pods `vnode run` runs on this containerd (/vnode-local). */
  cgroupParent: string;
}

export function localPaths(env: NodeJS.ProcessEnv = process.env): LocalPaths {
  const runDir = resolve(env.VNODE_RUN_DIR || '/run/vnode');
  const dataDir = resolve(env.VNODE_DATA_DIR || '/var/lib/vnode');
  const dir = join(dataDir, 'containerd');
  const run = join(runDir, 'containerd');
  const isDefault = runDir === '/run/vnode' && dataDir === '/var/lib/vnode';
  const hash = createHash('sha256').update(`${runDir}\0${dataDir}`).digest('hex').slice(0, 8);
  return {
    runDir,
    dataDir,
    dir,
    socket: join(run, 'containerd.sock'),
    ttrpcSocket: join(run, 'containerd.sock.ttrpc'),
    state: join(run, 'state'),
    root: join(dir, 'root'),
    config: join(dir, 'config.toml'),
    cniConfDir: join(dir, 'cni', 'net.d'),
    cniIpamDir: join(dir, 'cni', 'ipam'),
    pidFile: join(run, 'containerd.pid'),
    logFile: join(run, 'containerd.log'),
    imagesDir: join(dataDir, 'images'),
    bridge: isDefault ? 'vnode0' : `vn${hash}`,
    // its own parent (not `vnode run --containerd`'s /vnode): `containerd stop --purge` empties it
    cgroupParent: isDefault ? '/vnode-local' : `/vnode-local-${hash}`,
  };
}

/**
 * The repository (or install) root: the directory with bin/containerd-shim-vnode-v2 and
 * dist/vnode.mjs. This module runs from src/cli (tsx), dist/ or dist/chunks/ (bundle).
 */
export function productRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'bin', 'containerd-shim-vnode-v2')) && existsSync(join(dir, 'dist', 'vnode.mjs'))) return dir;
    dir = dirname(dir);
  }
  // dist/vnode.mjs or src/cli/*.ts: the root is one or two levels up
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
}

export interface ContainerdBinary {
  path: string;
  /** "2.1.9~ds1" */
  version: string;
  major: number;
  minor: number;
}

/** `containerd --version` → its version, e.g. "containerd github.com/containerd/containerd/v2 2.1.9~ds1 ..." → 2.1.9~ds1. */
export function containerdVersion(path: string): ContainerdBinary {
  const out = execFileSync(path, ['--version'], { encoding: 'utf8', timeout: 10_000 }).trim();
  const v = out.split(/\s+/).find((w) => /^v?\d+\.\d+/.test(w)) ?? '';
  const m = /^v?(\d+)\.(\d+)/.exec(v);
  if (!m) throw new CliError(`cannot tell the version of ${path} from "${out}"`);
  return { path, version: v.replace(/^v/, ''), major: Number(m[1]), minor: Number(m[2]) };
}

/** Candidate containerd binaries, best first: VNODE_CONTAINERD_BIN, .cache/containerd/{2,1.7} (scripts/setup-host.sh), /usr/bin. */
export function containerdCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const root = productRoot();
  const list = env.VNODE_CONTAINERD_BIN
    ? [env.VNODE_CONTAINERD_BIN]
    : [join(root, '.cache/containerd/2/usr/bin/containerd'), join(root, '.cache/containerd/1.7/usr/bin/containerd'), '/usr/bin/containerd', '/usr/local/bin/containerd'];
  return list;
}

export function findContainerd(env: NodeJS.ProcessEnv = process.env): ContainerdBinary {
  const tried: string[] = [];
  for (const p of containerdCandidates(env)) {
    tried.push(p);
    if (!existsSync(p)) continue;
    const bin = containerdVersion(p);
    if (bin.major < 1 || (bin.major === 1 && bin.minor < 6)) {
      throw new CliError(`${p} is containerd ${bin.version}: vnode needs 1.7 or 2.x (1.6 works with limits); set VNODE_CONTAINERD_BIN`);
    }
    return bin;
  }
  throw new CliError(
    `no containerd found (looked at ${tried.join(', ')}): install it (apt-get install containerd, or scripts/setup-host.sh for 1.7 and 2.x) or set VNODE_CONTAINERD_BIN`,
  );
}

// ---- config --------------------------------------------------------------------------------

export interface ConfigInput {
  paths: LocalPaths;
  major: number;
  subnet: string;
}

/** containerd's config: CRI with restrict_oom_score_adj, a local pause image, CNI bridge, runtimes vnode (default) and runc. */
export function containerdConfig({ paths: p, major, cni }: ConfigInput & { cni?: CniFiles }): Record<string, unknown> {
  return buildContainerdConfig({
    major,
    root: p.root,
    state: p.state,
    address: p.socket,
    ttrpcAddress: p.ttrpcSocket,
    dir: p.dir,
    cniConfDir: p.cniConfDir,
    ...cni,
    sandboxImage: PAUSE_REF,
    defaultRuntime: 'vnode',
    vnodeShim: join(productRoot(), 'bin', 'containerd-shim-vnode-v2'),
  });
}

export function cniConflist(paths: LocalPaths, subnet: string): Record<string, unknown> {
  // outbound NAT as docker and kind give it: pods reach what the host reaches (docs/networking.md)
  return bridgeConflist({ name: `vnode-${paths.bridge}`, bridge: paths.bridge, subnet, ipamDir: paths.cniIpamDir, ipMasq: true });
}

/** The subnet of an earlier config, else a random 10.2xx.y.0/24 not used by any address or route here. */
function chooseSubnet(paths: LocalPaths): string {
  try {
    const old = JSON.parse(readFileSync(join(paths.cniConfDir, '10-vnode.conflist'), 'utf8')) as { plugins: { ipam?: { ranges: { subnet: string }[][] } }[] };
    const s = old.plugins[0]?.ipam?.ranges[0]?.[0]?.subnet;
    if (s) return s;
  } catch { /* first start */ }
  const subnet = freeSubnet();
  if (!subnet) throw new CliError('no free 10.2xx.y.0/24 subnet for the CNI bridge');
  return subnet;
}

// ---- process -------------------------------------------------------------------------------

/** The pid of our containerd when it still runs (pid file + start time, so a reused pid does not count). */
export function runningPid(paths: LocalPaths): number | undefined {
  return livePidInFile(paths.pidFile);
}

export function ctrRunner(ctrPath: string, address: string): CtrRunner {
  return (...args: string[]) =>
    new Promise((res, rej) => {
      execFile(ctrPath, ['--address', address, ...args], { timeout: 120_000, maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
        if (err) rej(new CliError(`ctr ${args.join(' ')}: ${stderr.trim() || err.message}`));
        else res(stdout);
      });
    });
}

/** `ctr` next to the containerd binary, else on PATH. */
export function ctrFor(containerdPath: string | undefined): string {
  if (containerdPath) {
    const p = join(dirname(containerdPath), 'ctr');
    if (existsSync(p)) return p;
  }
  for (const d of (process.env.PATH ?? '/usr/bin').split(':')) if (d && existsSync(join(d, 'ctr'))) return join(d, 'ctr');
  return 'ctr';
}

export interface LocalContainerd {
  address: string;
  version: string;
  containerdPath: string;
  paths: LocalPaths;
  /** true when this call started it. */
  started: boolean;
  ctr: CtrRunner;
}

function recordedBinary(paths: LocalPaths): ContainerdBinary | undefined {
  try { return JSON.parse(readFileSync(join(paths.dir, 'binary.json'), 'utf8')) as ContainerdBinary; } catch { return undefined; }
}

/**
 * Held while one vnode starts containerd, so that two `vnode run`s on a fresh machine do not
 * both start one: an abstract unix socket (gone with its process, never stale).
 */
async function startLock(paths: LocalPaths, progress: Progress): Promise<Server> {
  const name = `\0vnode-containerd-start-${createHash('sha256').update(paths.dir).digest('hex').slice(0, 16)}`;
  let told = false;
  for (;;) {
    const server = createServer();
    const err = await new Promise<NodeJS.ErrnoException | undefined>((res) => {
      server.once('error', (e) => res(e as NodeJS.ErrnoException));
      server.listen({ path: name }, () => res(undefined));
    });
    if (!err) return server;
    if (err.code !== 'EADDRINUSE') throw err;
    if (!told) progress('another vnode is starting containerd; waiting…');
    told = true;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Makes sure vnode's own containerd runs (starting and configuring it if needed) and has the pause image. */
export async function ensureLocalContainerd(progress: Progress, env: NodeJS.ProcessEnv = process.env): Promise<LocalContainerd> {
  const paths = localPaths(env);
  if (runningPid(paths) === undefined && process.getuid?.() === 0) {
    const lock = await startLock(paths, progress);
    try {
      return await ensureLocked(paths, progress, env);
    } finally {
      lock.close();
    }
  }
  return ensureLocked(paths, progress, env);
}

async function ensureLocked(paths: LocalPaths, progress: Progress, env: NodeJS.ProcessEnv): Promise<LocalContainerd> {
  const pid = runningPid(paths);
  if (pid !== undefined) {
    const bin = recordedBinary(paths) ?? findContainerd(env);
    const ctr = ctrRunner(ctrFor(bin.path), paths.socket);
    try {
      const cri = await CriClient.connect(paths.socket, { waitMs: 10_000 });
      cri.close();
      return { address: paths.socket, version: bin.version, containerdPath: bin.path, paths, started: false, ctr };
    } catch {
      throw new CliError(`vnode's containerd (pid ${pid}) does not answer on ${paths.socket}; see ${paths.logFile}, or restart it: vnode containerd stop`);
    }
  }
  if (process.getuid?.() !== 0) throw new CliError('starting containerd needs root: run vnode as root, or pass --containerd ADDRESS');

  const bin = findContainerd(env);
  const shim = join(productRoot(), 'bin', 'containerd-shim-vnode-v2');
  if (!existsSync(shim) || !existsSync(join(productRoot(), 'dist', 'vnode.mjs'))) {
    throw new CliError(`${shim} (and dist/vnode.mjs) missing: run npm ci && npm run build first; containerd finds the vnode shim there`);
  }
  progress(`starting containerd ${bin.version} (${bin.path})…`);
  if (bin.major === 1 && bin.minor < 7) {
    progress(`warning: containerd ${bin.version} is older than the supported 1.7/2.x: run scripts/setup-host.sh (downloads 1.7 and 2.x), or set VNODE_CONTAINERD_BIN`);
  }
  for (const d of [paths.dir, paths.root, paths.state, paths.cniConfDir, paths.cniIpamDir, dirname(paths.socket), paths.imagesDir]) mkdirSync(d, { recursive: true, mode: 0o711 });
  const subnet = chooseSubnet(paths);
  const cni = writeCniConfig(dirname(paths.cniConfDir), '10-vnode.conflist', cniConflist(paths, subnet), helperPath('vnode-cni'));
  writeFileSync(paths.config, `# written by vnode (src/cli/containerd-local.ts); rewritten on every start\n${stringify(containerdConfig({ paths, major: bin.major, subnet, cni }))}\n`);
  writeFileSync(join(paths.dir, 'binary.json'), JSON.stringify(bin));
  rmSync(paths.socket, { force: true });

  const root = productRoot();
  const pathEnv = [join(root, 'bin'), dirname(bin.path), dirname(process.execPath), '/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']
    .filter((p, i, a) => a.indexOf(p) === i)
    .join(':');
  const logFd = openSync(paths.logFile, 'a');
  const child = spawn(bin.path, ['--config', paths.config], {
    // VNODE_CNI_*: the vnode runtime's chain, with which the manager attaches a vNode's own netns
    // (hostNetwork pods). These are allowed: on this machine only root runs pods, and root
    // reaches the host's localhost anyway (docs/networking.md, PortForward)
    env: {
      VNODE_ALLOW_HOST_NETWORK: 'true',
      ...env,
      PATH: pathEnv,
      VNODE_RUN_DIR: paths.runDir,
      VNODE_DATA_DIR: paths.dataDir,
      VNODE_CNI_CONF_DIR: cni.vnodeCniConfDir,
      VNODE_CNI_BIN_DIRS: cni.cniBinDir,
    },
    stdio: ['ignore', logFd, logFd],
    detached: true,
    cwd: '/',
  });
  closeSync(logFd);
  if (child.pid === undefined) throw new CliError(`cannot start ${bin.path}`);
  let exited: string | undefined;
  child.on('exit', (code, sig) => { exited = `containerd exited (code ${code}, signal ${sig})`; });
  child.on('error', (e) => { exited = e.message; });
  child.unref();
  writeFileSync(paths.pidFile, `${child.pid} ${startTimeOf(child.pid) ?? ''}\n`);

  progress('waiting for containerd\'s CRI…');
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exited) throw new CliError(`${exited} right after start; its log: ${paths.logFile}\n${logTail(paths.logFile)}`);
    try {
      const cri = await CriClient.connect(paths.socket, { waitMs: 1_000 });
      cri.close();
      break;
    } catch {
      if (Date.now() > deadline) throw new CliError(`containerd did not answer CRI on ${paths.socket} within 60 s; its log: ${paths.logFile}\n${logTail(paths.logFile)}`);
    }
  }
  const ctr = ctrRunner(ctrFor(bin.path), paths.socket);
  const local: LocalContainerd = { address: paths.socket, version: bin.version, containerdPath: bin.path, paths, started: true, ctr };
  await ensurePauseImage(local, progress);
  return local;
}

async function ensurePauseImage(local: LocalContainerd, progress: Progress): Promise<void> {
  const names = (await local.ctr('-n', 'k8s.io', 'images', 'ls', '-q')).split('\n');
  if (!names.includes(PAUSE_REF)) {
    progress(`importing the sandbox image ${PAUSE_REF} (built from /usr/bin/catatonit)…`);
    try {
      await importImage(local.ctr, pauseImage(local.paths.imagesDir, PAUSE_REF));
    } catch (err) {
      if (err instanceof LocalImageError) throw new CliError(`cannot build the pause image: ${err.message}`);
      throw err;
    }
  }
  // RunPodSandbox looks the sandbox image up in CRI's image store, which learns of imports a moment later.
  const cri = await CriClient.connect(local.address, { waitMs: 10_000 });
  try {
    const deadline = Date.now() + 15_000;
    while (!(await cri.imageStatus(PAUSE_REF)).image) {
      if (Date.now() > deadline) throw new CliError(`containerd at ${local.address} does not list the imported ${PAUSE_REF} through CRI; see ${local.paths.logFile}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    cri.close();
  }
}

function logTail(path: string): string {
  try {
    return readFileSync(path, 'utf8').split('\n').filter((l) => /level=(error|fatal)|error|fatal/i.test(l)).slice(-10).join('\n');
  } catch {
    return '';
  }
}

/** The containerd binary vnode's own containerd runs (for its ctr), else the best candidate found, else undefined. */
export function recordedContainerdPath(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const rec = recordedBinary(localPaths(env));
  if (rec && existsSync(rec.path)) return rec.path;
  return containerdCandidates(env).find((p) => existsSync(p));
}
