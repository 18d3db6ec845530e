// `vnode containerd status|stop [--purge]`: vnode's own containerd (see containerd-local.ts).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmdirSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { CriClient, CriError } from '../k8s/cri/index.js';
import { managerInstance } from '../shim/index.js';
import { isAlive, livePidInFile } from '../sys/index.js';
import { mountsUnder, umount } from '../sys/index.js';
import { localPaths, runningPid, type LocalPaths } from './containerd-local.js';
import { ExitCode, UsageError } from './errors.js';
import { progressTo, type Progress } from './output.js';

export const CONTAINERD_USAGE = `Usage: vnode containerd status
       vnode containerd stop [--purge]

vnode's own containerd: started by "vnode run" when no containerd with a vnode runtime
handler is configured (socket /run/vnode/containerd/containerd.sock).

  status    print whether it runs, its pid and socket (exit 1 when it does not run)
  stop      remove its pods (as kubelet would), stop it and its vnode manager
  --purge   with stop: also delete its images, config and state (and its CNI bridge)
`;

export async function containerdCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { purge: { type: 'boolean' }, quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(CONTAINERD_USAGE);
    return ExitCode.ok;
  }
  const [sub, ...extra] = positionals;
  if (extra.length) throw new UsageError(`unexpected arguments: ${extra.join(' ')}`);
  const paths = localPaths();
  if (sub === 'status') {
    const pid = runningPid(paths);
    if (pid === undefined) {
      process.stdout.write(`not running (socket ${paths.socket})\n`);
      return ExitCode.failed;
    }
    process.stdout.write(`running: pid ${pid}, socket ${paths.socket}, config ${paths.config}, log ${paths.logFile}\n`);
    return ExitCode.ok;
  }
  if (sub === 'stop') {
    await stopLocalContainerd(paths, progressTo(process.stderr, values.quiet ?? false), values.purge ?? false);
    return ExitCode.ok;
  }
  throw new UsageError(sub === undefined ? `missing subcommand\n${CONTAINERD_USAGE}` : `unknown subcommand "${sub}"\n${CONTAINERD_USAGE}`);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

async function terminate(pid: number, graceMs: number): Promise<void> {
  if (!alive(pid)) return;
  try { process.kill(pid, 'SIGTERM'); } catch { return; }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  if (alive(pid)) {
    try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    for (let i = 0; i < 40 && alive(pid); i++) await sleep(50);
  }
}

/** Removes every pod, as kubelet does when a node is drained; the vNodes go with their last pod. */
async function removeAllPods(address: string, progress: Progress): Promise<void> {
  let cri: CriClient | undefined;
  try {
    cri = await CriClient.connect(address, { waitMs: 5_000, timeoutMs: 30_000 });
    const pods = await cri.listPodSandbox();
    if (pods.length) progress(`removing ${pods.length} pod(s)…`);
    for (const p of pods) {
      try {
        await cri.stopPodSandbox(p.id);
        await cri.removePodSandbox(p.id);
      } catch (err) {
        if (!(err instanceof CriError && err.grpcCode === 5)) progress(`warning: removing pod ${p.metadata?.namespace}/${p.metadata?.name}: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    progress(`warning: cannot list pods: ${(err as Error).message}`);
  } finally {
    cri?.close();
  }
}

/**
 * The manager of this containerd instance and its connection holder (vnode-hold), when no
 * task is left — or, with `force` (purge), regardless: then also every vNode init of the
 * instance (which takes the vNode's processes with it) and every process whose command
 * line names the instance's directory or containerd's socket (shims). Returns the
 * instance directory when they are gone ('' when left running).
 */
async function stopManager(paths: LocalPaths, progress: Progress, force: boolean): Promise<string> {
  const inst = managerInstance(paths.socket, { ...process.env, VNODE_RUN_DIR: paths.runDir });
  const tasksDir = join(inst.dir, 'state', 'tasks');
  const tasks = existsSync(tasksDir) ? readdirSync(tasksDir).filter((f) => f.endsWith('.json')) : [];
  if (tasks.length > 0 && !force) {
    progress(`warning: the vnode manager of ${paths.socket} still has ${tasks.length} task(s); left running (--purge stops everything)`);
    return '';
  }
  for (const [what, file] of [['vnode manager', inst.pidFile], ['vnode-hold', join(inst.dir, 'hold.pid')]] as const) {
    const pid = livePidInFile(file);
    if (pid === undefined) continue;
    progress(`stopping the ${what} (pid ${pid})…`);
    await terminate(pid, 5_000);
  }
  if (force) {
    for (const v of readJson<{ name: string; initPid: number; initStartTime: string; range: { start: number } }>(join(inst.dir, 'state', 'vnodes'))) {
      if (isAlive(v.initPid, v.initStartTime)) {
        progress(`killing vNode ${v.name} (init pid ${v.initPid})…`);
        try { process.kill(v.initPid, 'SIGKILL'); } catch { /* gone */ }
      }
    }
    for (const pid of processesNaming([inst.dir, paths.socket, paths.state])) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    releaseLeases(`${inst.dir}#`);
  }
  return inst.dir;
}

function readJson<T>(dir: string): T[] {
  let names: string[] = [];
  try { names = readdirSync(dir).filter((f) => f.endsWith('.json')); } catch { return []; }
  const out: T[] = [];
  for (const n of names) {
    try { out.push(JSON.parse(readFileSync(join(dir, n), 'utf8')) as T); } catch { /* skip */ }
  }
  return out;
}

/** Processes (other than us) whose command line contains one of `needles`. */
function processesNaming(needles: string[]): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    let cmd = '';
    try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'latin1'); } catch { continue; }
    if (needles.some((n) => cmd.includes(n))) out.push(Number(pid));
  }
  return out;
}

/** Gives back the ID ranges the instance's vNodes leased (owner "<instance dir>#<vNode>"). */
function releaseLeases(ownerPrefix: string): void {
  const dir = process.env.VNODE_ID_POOL_DIR ?? '/run/vnode/idpool';
  let names: string[] = [];
  try { names = readdirSync(dir).filter((n) => /^\d+$/.test(n)); } catch { return; }
  for (const n of names) {
    try {
      const lease = JSON.parse(readFileSync(join(dir, n), 'utf8')) as { owner?: string };
      if (lease.owner?.startsWith(ownerPrefix)) rmSync(join(dir, n), { force: true });
    } catch { /* not a lease */ }
  }
}

/** rmdir of a cgroup subtree in every hierarchy, deepest first; retried while killed processes leave. */
async function removeCgroupTree(path: string): Promise<void> {
  for (let i = 0; i < 30 && cgroupTreeOnce(path); i++) await sleep(100);
}

/** One pass; true when something is left. */
function cgroupTreeOnce(path: string): boolean {
  const roots = readdirSync('/sys/fs/cgroup').map((c) => join('/sys/fs/cgroup', c));
  if (existsSync('/sys/fs/cgroup/cgroup.controllers')) roots.push('/sys/fs/cgroup');
  const walk = (dir: string) => {
    // what the runtime left (e.g. a stuck `runc init`) dies with the tree
    try {
      for (const p of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ }
      }
    } catch { /* no procs file */ }
    let subs: string[] = [];
    try { subs = readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => join(dir, e.name)); } catch { return; }
    for (const d of subs) walk(d);
    try { rmdirSync(dir); } catch { /* busy */ }
  };
  for (const r of roots) if (existsSync(join(r, path))) walk(join(r, path));
  return roots.some((r) => existsSync(join(r, path)));
}

export async function stopLocalContainerd(paths: LocalPaths, progress: Progress, purge: boolean): Promise<void> {
  const pid = runningPid(paths);
  let managerDir = '';
  if (pid !== undefined) {
    await removeAllPods(paths.socket, progress);
    progress(`stopping containerd (pid ${pid})…`);
    await terminate(pid, 10_000);
  } else {
    progress(`vnode's containerd is not running (${paths.socket})`);
  }
  managerDir = await stopManager(paths, progress, purge);
  rmSync(paths.pidFile, { force: true });
  rmSync(paths.socket, { force: true });
  rmSync(paths.ttrpcSocket, { force: true });
  if (!purge) return;
  progress(`purging ${paths.dir} and ${dirname(paths.socket)}…`);
  await removeCgroupTree(paths.cgroupParent);
  for (const dir of [paths.dir, dirname(paths.socket), managerDir].filter(Boolean)) {
    for (let round = 0; round < 5; round++) {
      const mps = mountsUnder(dir);
      if (mps.length === 0) break;
      for (const m of mps) { try { umount(m); } catch { /* next round */ } }
    }
    if (mountsUnder(dir).length === 0) rmSync(dir, { recursive: true, force: true });
    else progress(`warning: mounts left under ${dir}: ${mountsUnder(dir).join(' ')}`);
  }
  rmSync(paths.imagesDir, { recursive: true, force: true });
  if (managerDir) rmSync(join(paths.dataDir, basename(managerDir)), { recursive: true, force: true });
  try {
    execFileSync('ip', ['link', 'show', paths.bridge], { stdio: 'ignore' });
    execFileSync('ip', ['link', 'del', paths.bridge], { stdio: 'ignore' });
  } catch { /* no bridge */ }
}
