// Shared helpers of the benchmarks (bench/*.ts): flags, statistics, tables, progress lines,
// per-process memory from /proc, and where the vnode manager of a containerd instance lives.
// Nothing here asserts anything: the benchmarks measure and report.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, hostname, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { managerInstance } from '../src/shim/instance.js';
import { containerConfig, podSandboxConfig, type CriEnv } from '../test/support/cri.js';
import type { ContainerdVersion } from '../test/support/containerd.js';

// ---- flags ------------------------------------------------------------------------------------

export interface Flags {
  values: Map<string, string>;
  bools: Set<string>;
}

/** --name value, --name=value, and boolean --name (for names in `booleans`). Unknown flags throw. */
export function parseFlags(argv: string[], known: { values: string[]; booleans: string[] }, usage: string): Flags {
  const values = new Map<string, string>();
  const bools = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-h' || a === '--help') {
      process.stdout.write(usage);
      process.exit(0);
    }
    const m = /^--([a-z0-9-]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new Error(`unexpected argument ${JSON.stringify(a)}\n${usage}`);
    const name = m[1]!;
    if (known.booleans.includes(name)) {
      bools.add(name);
    } else if (known.values.includes(name)) {
      const v = m[2] ?? argv[++i];
      if (v === undefined) throw new Error(`--${name} needs a value\n${usage}`);
      values.set(name, v);
    } else {
      throw new Error(`unknown flag --${name}\n${usage}`);
    }
  }
  return { values, bools };
}

export function intFlag(f: Flags, name: string, dflt: number, min = 0): number {
  const v = f.values.get(name);
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, not ${JSON.stringify(v)}`);
  return n;
}

/** --containerd 2 | 1.7 | 1.6 | "2,1.7" | all */
export function containerdVersions(f: Flags, dflt: ContainerdVersion[] = ['2']): ContainerdVersion[] {
  const v = f.values.get('containerd');
  if (v === undefined) return dflt;
  const list = v === 'all' ? ['2', '1.7'] : v.split(',').map((s) => s.trim()).filter(Boolean);
  for (const x of list) if (!['2', '1.7', '1.6'].includes(x)) throw new Error(`--containerd takes 2, 1.7, 1.6, a comma list or all, not ${JSON.stringify(x)}`);
  return list as ContainerdVersion[];
}

// ---- progress ---------------------------------------------------------------------------------

const t0 = Date.now();
/** A progress line on stderr (stdout stays the report). */
export function progress(msg: string): void {
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${msg}\n`);
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** High-resolution milliseconds. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

// ---- statistics -------------------------------------------------------------------------------

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p90: number;
  mean: number;
  max: number;
}

/** Percentile with linear interpolation between closest ranks. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const idx = (sorted.length - 1) * p;
  const lo = Math.floor(idx);
  const hi = Math.ceil(idx);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (idx - lo);
}

export function summarize(xs: number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / (s.length || 1);
  return { n: s.length, min: s[0] ?? NaN, p50: percentile(s, 0.5), p90: percentile(s, 0.9), mean: s.length ? mean : NaN, max: s[s.length - 1] ?? NaN };
}

export function median(xs: number[]): number {
  return percentile([...xs].sort((a, b) => a - b), 0.5);
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

// ---- tables -----------------------------------------------------------------------------------

/** A plain-text table; columns after the first are right-aligned. */
export function table(header: string[], rows: (string | number)[][]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ').trimEnd();
  return [line(cells[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n') + '\n';
}

export function fmtMs(x: number): string {
  return Number.isFinite(x) ? x.toFixed(0) : '-';
}

export function fmtRatio(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(2)}×` : '-';
}

// ---- machine ----------------------------------------------------------------------------------

export interface MachineInfo {
  date: string;
  hostname: string;
  kernel: string;
  cpus: number;
  cpuModel: string;
  memTotalMiB: number;
  node: string;
  loadavg: string;
  runc: string;
}

export function machineInfo(): MachineInfo {
  return {
    date: new Date().toISOString(),
    hostname: hostname(),
    kernel: release(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memTotalMiB: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    loadavg: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    runc: runcVersion(),
  };
}

function runcVersion(): string {
  try {
    const out = execFileSync('/usr/sbin/runc', ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    return out.split('\n')[0]?.replace(/^runc version\s*/, '') ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

// ---- /proc memory -----------------------------------------------------------------------------

export interface ProcMem {
  pid: number;
  comm: string;
  /** kB */
  rss: number;
  /** kB, from smaps_rollup (0 if unreadable) */
  pss: number;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

function kbField(text: string | undefined, name: string): number {
  if (!text) return 0;
  const m = new RegExp(`^${name}:\\s+(\\d+)\\s*kB`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

export function procMem(pid: number): ProcMem | undefined {
  const status = readText(`/proc/${pid}/status`);
  if (!status) return undefined;
  const comm = (readText(`/proc/${pid}/comm`) ?? '').trim();
  return { pid, comm, rss: kbField(status, 'VmRSS'), pss: kbField(readText(`/proc/${pid}/smaps_rollup`), 'Pss') };
}

/** Fields of /proc/meminfo in kB. */
export function meminfo(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const l of readFileSync('/proc/meminfo', 'utf8').split('\n')) {
    const m = /^(\S+):\s+(\d+)/.exec(l);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

export function allPids(): number[] {
  return readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
}

export function cmdline(pid: number): string[] {
  return (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean);
}

export function ppid(pid: number): number {
  const stat = readText(`/proc/${pid}/stat`) ?? '';
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1] ?? 0);
}

/** Every pid whose ancestry (through ppid) reaches one of `roots` (roots included). */
export function descendants(roots: number[]): number[] {
  const parent = new Map<number, number>();
  for (const p of allPids()) parent.set(p, ppid(p));
  const rootSet = new Set(roots);
  const out: number[] = [];
  for (const p of parent.keys()) {
    let q: number | undefined = p;
    for (let depth = 0; q && depth < 64; depth++) {
      if (rootSet.has(q)) {
        out.push(p);
        break;
      }
      q = parent.get(q);
    }
  }
  return out;
}

// ---- the vnode manager of a containerd instance ----------------------------------------------

export interface ManagerLocation {
  dir: string;
  pidFile: string;
  logFile: string;
  vnodesDir: string;
}

export function managerLocation(containerdAddress: string): ManagerLocation {
  const inst = managerInstance(containerdAddress);
  return { dir: inst.dir, pidFile: inst.pidFile, logFile: inst.logFile, vnodesDir: join(inst.dir, 'state', 'vnodes') };
}

/** The manager's pid if manager.pid names a live process with that start time. */
export function managerPid(loc: ManagerLocation): number | undefined {
  const text = readText(loc.pidFile);
  if (!text) return undefined;
  const [pidS, start] = text.trim().split(/\s+/);
  const pid = Number(pidS);
  if (!(pid > 0)) return undefined;
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const st = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  return start === undefined || st === start ? pid : undefined;
}

export interface VnodeRecordLite {
  name: string;
  initPid: number;
  key?: string;
}

/** The manager's vNode records (state/vnodes/*.json). */
export function vnodeRecords(loc: ManagerLocation): VnodeRecordLite[] {
  let names: string[] = [];
  try {
    names = readdirSync(loc.vnodesDir).filter((n) => n.endsWith('.json'));
  } catch {
    return [];
  }
  const out: VnodeRecordLite[] = [];
  for (const n of names) {
    try {
      const r = JSON.parse(readFileSync(join(loc.vnodesDir, n), 'utf8')) as { initPid?: number; key?: string };
      if (r.initPid) out.push({ name: n.replace(/\.json$/, ''), initPid: r.initPid, key: r.key });
    } catch {
      /* being written or removed */
    }
  }
  return out;
}

/** pid from a "<pid> <starttime>" file, if that process still runs (not a zombie) with that start time. */
function livePid(file: string): number | undefined {
  const text = readText(file);
  if (!text) return undefined;
  const [pidS, start] = text.trim().split(/\s+/);
  const pid = Number(pidS);
  if (!(pid > 0)) return undefined;
  const stat = readText(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  if (fields[0] === 'Z' || fields[0] === 'X') return undefined; // killed, not yet reaped by its (sub)reaper
  return start === undefined || fields[19] === start ? pid : undefined;
}

/**
 * After the benchmark's containerd is stopped: stops the vnode manager of that instance and
 * its connection holder (vnode-hold) if they still run and hold no task (both were started
 * for this benchmark's containerd; identified by pid and start time; right after stop() they
 * are usually zombies not yet reaped, which count as gone), then removes the run
 * directory (/run/vnode/<id>) and data directory (/var/lib/vnode/<id>), unless something is
 * still mounted there.
 */
export async function removeManagerDirs(containerdAddress: string): Promise<void> {
  const inst = managerInstance(containerdAddress);
  const tasksDir = join(inst.dir, 'state', 'tasks');
  let tasks: string[] = [];
  try {
    tasks = readdirSync(tasksDir).filter((f) => f.endsWith('.json'));
  } catch {
    /* none */
  }
  if (tasks.length > 0) {
    progress(`left ${inst.dir} in place: the manager still has ${tasks.length} task(s)`);
    return;
  }
  for (const file of [inst.pidFile, join(inst.dir, 'hold.pid')]) {
    const pid = livePid(file);
    if (pid === undefined) continue;
    progress(`stopping ${file.endsWith('hold.pid') ? 'vnode-hold' : 'vnode-manager'} pid ${pid} of the stopped containerd`);
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      continue;
    }
    const deadline = Date.now() + 5_000;
    while (livePid(file) !== undefined && Date.now() < deadline) await sleep(50);
    if (livePid(file) !== undefined) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
      await sleep(100);
    }
  }
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8');
  for (const dir of [inst.dir, join(process.env.VNODE_DATA_DIR ?? '/var/lib/vnode', inst.id)]) {
    if (mounts.includes(` ${dir}/`) || mounts.includes(` ${dir} `)) {
      progress(`left ${dir} in place: something is still mounted below it`);
      continue;
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---- pods ---------------------------------------------------------------------------------------

export const STEPS = ['RunPodSandbox', 'CreateContainer', 'StartContainer', 'untilRunning'] as const;
export type Step = (typeof STEPS)[number];

export const SLEEPER = { name: 'sleeper', command: ['sleep', '3600'] };

/** RunPodSandbox + CreateContainer + StartContainer of busybox `sleep 3600` (or the sandbox only), timed per call, until RUNNING. */
export async function startPod(env: CriEnv, namespace: string, opts: { sandboxOnly?: boolean } = {}): Promise<{ podId: string; steps: Record<Step, number>; totalMs: number }> {
  const pod = podSandboxConfig(env, { namespace, name: `bench-${randomBytes(3).toString('hex')}` });
  const t0 = nowMs();
  const podId = await env.cri.runPodSandbox(pod, env.handler);
  const t1 = nowMs();
  if (opts.sandboxOnly) return { podId, totalMs: t1 - t0, steps: { RunPodSandbox: t1 - t0, CreateContainer: 0, StartContainer: 0, untilRunning: 0 } };
  let cid: string;
  try {
    cid = await env.cri.createContainer(podId, containerConfig(env, pod, SLEEPER), pod);
  } catch (e) {
    await removePod(env, podId).catch(() => undefined);
    throw e;
  }
  const t2 = nowMs();
  try {
    await env.cri.startContainer(cid);
    const t3 = nowMs();
    for (let i = 0; ; i++) {
      const st = (await env.cri.containerStatus(cid)).status!;
      if (st.state === 'CONTAINER_RUNNING') break;
      if (st.state === 'CONTAINER_EXITED') throw new Error(`container exited (${st.exit_code}): ${st.reason} ${st.message}`);
      if (i > 2000) throw new Error(`container not running after StartContainer: ${st.state}`);
      await sleep(5);
    }
    const t4 = nowMs();
    return { podId, totalMs: t4 - t0, steps: { RunPodSandbox: t1 - t0, CreateContainer: t2 - t1, StartContainer: t3 - t2, untilRunning: t4 - t3 } };
  } catch (e) {
    await removePod(env, podId).catch(() => undefined);
    throw e;
  }
}

/** StopPodSandbox + RemovePodSandbox; returns the time it took. */
export async function removePod(env: CriEnv, podId: string): Promise<number> {
  const t0 = nowMs();
  await env.cri.stopPodSandbox(podId);
  await env.cri.removePodSandbox(podId);
  return nowMs() - t0;
}

