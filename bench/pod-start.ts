// Pod start latency: RunPodSandbox + CreateContainer + StartContainer until ContainerStatus
// says CONTAINER_RUNNING (busybox `sleep 3600`), runtime handler `runc` vs `vnode` on the SAME
// private containerd in the SAME run, interleaved so that drift of this shared machine hits
// both alike. Each round runs: runc, vnode (existing vNode), runc, vnode (new vNode).
//
//   existing vNode: pods in a Kubernetes namespace that already has a running vnode pod
//                   (an anchor pod started before the measurements), so its vNode exists;
//   new vNode:      a fresh Kubernetes namespace per pod, so every start creates a vNode.
//
// --vnode-runtime runc,crun: vnode driving runc and vnode driving crun in the same run. The
// manager takes its runtime from containerd's environment (VNODE_RUNTIME; one manager per
// containerd), so each runtime gets its own private containerd of the same version and
// config; a round is then: runc, vnode+runc existing (containerd A), runc, vnode+crun
// existing (B), runc (A), vnode+runc new (A), runc (B), vnode+crun new (B): every vnode start
// follows a runc start on its own containerd, and the reference is all runc starts.
// --crun-handler adds containerd's runc shim with BinaryName crun (round: + runc, crun, on A).
//
// Pods are stopped and removed between starts (not timed into the start). Warm-up rounds
// are discarded. Not a test: it never asserts timings, it reports them.
//
//   node --import tsx bench/pod-start.ts [--iterations N] [--warmup W] [--containerd 2|1.7|2,1.7|all] [--vnode-runtime runc|crun|runc,crun] [--crun-handler] [--json]
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { startContainerd, testCgroupDriver, writeRuntimeWrapper, type ContainerdInstance, type ContainerdVersion } from '../test/support/containerd.js';
import { cacheDir } from '../test/support/paths.js';
import { criEnv, type CriEnv } from '../test/support/cri.js';
import {
  containerdVersions, fmtMs, fmtRatio, intFlag, machineInfo, managerLocation, managerPid, median, parseFlags, progress,
  removeManagerDirs, removePod, round, sleep, startPod, summarize, table, vnodeRecords, type MachineInfo, type ManagerLocation, type Step, type Summary, STEPS,
} from './lib.js';

const USAGE = `usage: node --import tsx bench/pod-start.ts [--iterations N] [--warmup W] [--containerd 2|1.7|2,1.7|all] [--vnode-runtime runc|crun|runc,crun] [--crun-handler] [--pause-ms MS] [--json] [--json-file F] [--vnode-bin-dir D] [--manager-env K=V,...]
  --iterations N   measured rounds (default 15); each round starts runc, vnode (existing), runc, vnode (new)
  --warmup W       rounds run first and discarded (default 2)
  --containerd V   containerd version(s) to run against (default 2)
  --vnode-runtime R  the OCI runtime(s) the vnode manager drives (default runc): runc, crun
                   (.cache/crun/bin/crun from scripts/setup-host.sh, else crun on PATH) or
                   runc,crun; each runtime gets its own containerd (VNODE_RUNTIME in its
                   environment), same version and config, measured interleaved in one run
  --crun-handler   also containerd's runc shim driving crun (BinaryName), against the runc handler
  --pause-ms MS    idle time after removing a pod, before the next start (default 250)
  --json           print the results as JSON on stdout instead of tables
  --json-file F    also write the JSON results to F
  --manager-env K=V,...  extra environment of the containerds (so of their vnode managers), to
                   time a part apart, e.g. VNODE_VNODEFS=false (no vnodefs binds); it applies
                   to the runc handler's containerd too, which ignores VNODE_* variables
  --vnode-bin-dir D  containerd finds containerd-shim-vnode-v2 in D first (experiments, e.g.
                   bench/experiments/fast-start: a shell fast path of "start")
`;

type VnodeRuntime = 'runc' | 'crun';
type Kind = 'existing' | 'new';
/** 'runc' (the reference), 'crun-handler', or a vnode case: 'vnode-existing' / 'vnode-new' (runc), 'vnode-crun-existing' / 'vnode-crun-new'. */
type CaseName = string;

interface CaseDef {
  name: CaseName;
  label: string;
  /** The containerd it runs on (named by the runtime its vnode manager drives). */
  instance: VnodeRuntime;
  handler: 'runc' | 'vnode' | 'crun';
  kind?: Kind;
  runtime?: VnodeRuntime;
  budget?: number;
}

const BUDGET: Record<Kind, number> = { existing: 1.15, new: 1.5 };
const HYBRID_CONTROLLERS = '/sys/fs/cgroup/unified/cgroup.controllers';

const vnodeCaseName = (rt: VnodeRuntime, kind: Kind): CaseName => (rt === 'runc' ? `vnode-${kind}` : `vnode-${rt}-${kind}`);

function caseDefs(runtimes: VnodeRuntime[], crunHandler: boolean): CaseDef[] {
  const plain = runtimes.length === 1 && runtimes[0] === 'runc';
  const defs: CaseDef[] = [{ name: 'runc', label: 'runc', instance: runtimes[0]!, handler: 'runc' }];
  for (const rt of runtimes) {
    for (const kind of ['existing', 'new'] as const) {
      defs.push({ name: vnodeCaseName(rt, kind), label: `${plain ? 'vnode' : `vnode+${rt}`}, ${kind} vNode`, instance: rt, handler: 'vnode', kind, runtime: rt, budget: BUDGET[kind] });
    }
  }
  if (crunHandler) defs.push({ name: 'crun-handler', label: 'crun handler', instance: runtimes[0]!, handler: 'crun' });
  return defs;
}

/** One round: every vnode (and crun handler) start right after a runc start on the same containerd. */
function roundOrder(defs: CaseDef[], runtimes: VnodeRuntime[]): { def: CaseDef; instance: VnodeRuntime }[] {
  const runc = defs[0]!;
  const out: { def: CaseDef; instance: VnodeRuntime }[] = [];
  for (const kind of ['existing', 'new'] as const) {
    for (const rt of runtimes) {
      out.push({ def: runc, instance: rt }, { def: defs.find((d) => d.kind === kind && d.runtime === rt)!, instance: rt });
    }
  }
  const ch = defs.find((d) => d.handler === 'crun');
  if (ch) out.push({ def: runc, instance: ch.instance }, { def: ch, instance: ch.instance });
  return out;
}

interface Sample {
  case: CaseName;
  /** The containerd it ran on (named by its vnode manager's runtime). */
  instance: VnodeRuntime;
  round: number;
  warmup: boolean;
  /** Position in the run (0-based), to pair each vnode start with the runc start just before it. */
  seq: number;
  totalMs: number;
  steps: Record<Step, number>;
  /** Stop + remove of the pod (not part of the start). */
  removeMs: number;
  /** vNodes the manager had while the container ran (sanity check of the case). */
  vnodesWhileRunning?: number;
  error?: string;
}

interface CaseResult {
  total: Summary;
  steps: Record<Step, Summary>;
  remove: Summary;
  failures: number;
}

interface Ratio { p50: number; p90: number; mean: number; budget?: number; pairedMedian: number }

interface VersionResult {
  containerd: ContainerdVersion;
  containerdVersion: string;
  /** The runtimes the vnode manager drove, one containerd each; the runc reference runs on every one. */
  vnodeRuntimes: Partial<Record<VnodeRuntime, string>>;
  /** Where containerd found containerd-shim-vnode-v2 first, when not the repo's bin/ (experiments). */
  vnodeBinDir?: string;
  iterations: number;
  warmup: number;
  cases: Record<CaseName, CaseResult>;
  /** The runc reference per containerd, when there are several (sanity: they should agree). */
  runcByInstance?: Partial<Record<VnodeRuntime, Summary>>;
  /** vnode (and crun handler) / runc over all measured samples (p50 vs p50, p90 vs p90, mean vs mean); paired: against the runc start just before. */
  ratios: Record<CaseName, Ratio>;
  /** vnode+crun / vnode+runc per kind (paired: the two starts of the same round). */
  crunVsRunc?: Partial<Record<Kind, Ratio>>;
  notes: string[];
  samples: Sample[];
}

interface Instance {
  ctd: ContainerdInstance;
  envs: Partial<Record<CaseDef['handler'], CriEnv>>;
  loc: ManagerLocation;
  baseVnodes: number;
  managerPid?: number;
  anchors: { env: CriEnv; podId: string; what: string }[];
}

/** Waits (≤ 5 s) until the manager has `n` vNodes: the removal of a vNode finishes before the next start. */
async function waitVnodes(loc: ManagerLocation, n: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (vnodeRecords(loc).length !== n && Date.now() < deadline) await sleep(20);
}

/** The runtimes whose container state is below `root`: runc writes <id>/state.json, crun <id>/status. */
function stateKinds(root: string): string[] {
  const kinds = new Set<string>();
  let ids: string[] = [];
  try {
    ids = readdirSync(root);
  } catch {
    return [];
  }
  for (const id of ids) {
    if (existsSync(join(root, id, 'state.json'))) kinds.add('runc');
    if (existsSync(join(root, id, 'status'))) kinds.add('crun');
  }
  return [...kinds].sort();
}

/** crun for --vnode-runtime crun: the one scripts/setup-host.sh installs, else crun on PATH. */
function crunBinary(): string {
  const cached = join(cacheDir, 'crun', 'bin', 'crun');
  if (existsSync(cached)) return cached;
  for (const d of (process.env['PATH'] ?? '').split(':')) if (d && existsSync(join(d, 'crun'))) return join(d, 'crun');
  throw new Error('--vnode-runtime crun: no crun (run scripts/setup-host.sh for .cache/crun/bin/crun, or put crun ≥ 1.9 on PATH)');
}

function versionLine(bin: string, prefix: RegExp): string {
  try {
    return execFileSync(bin, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0]!.replace(prefix, '');
  } catch {
    return 'unknown';
  }
}

interface RunOptions {
  iterations: number;
  warmup: number;
  pauseMs: number;
  runtimes: VnodeRuntime[];
  crunHandler: boolean;
  vnodeBinDir?: string;
  /** --manager-env: added to each containerd's environment. */
  managerEnv: Record<string, string>;
  /** Wrappers written for this run (crun behind the same oomScoreAdj wrapper as runc). */
  wrappers: { vnodeCrun?: string; crunHandler?: string; crunHandlerRoot?: string };
}

async function startInstance(version: ContainerdVersion, rt: VnodeRuntime, o: RunOptions, withCrunHandler: boolean): Promise<ContainerdInstance> {
  // runc: the manager's own choice, runc on containerd's PATH, which is the harness's
  // oomScoreAdj wrapper (as the runc handler's); crun: the same wrapper around crun
  const env: Record<string, string> = { ...o.managerEnv, VNODE_RUNTIME: rt === 'crun' ? o.wrappers.vnodeCrun! : '' };
  const runtimes: Record<string, Record<string, unknown>> = {};
  if (withCrunHandler) {
    runtimes['crun'] = {
      runtime_type: 'io.containerd.runc.v2',
      options: { SystemdCgroup: testCgroupDriver() === 'systemd', Root: o.wrappers.crunHandlerRoot!, BinaryName: o.wrappers.crunHandler! },
    };
  }
  return startContainerd({ version, env, runtimes, ...(o.vnodeBinDir ? { vnodeBinDir: resolve(o.vnodeBinDir) } : {}) });
}

async function runVersion(version: ContainerdVersion, o: RunOptions): Promise<VersionResult> {
  const { iterations, warmup, pauseMs, runtimes } = o;
  const defs = caseDefs(runtimes, o.crunHandler);
  const order = roundOrder(defs, runtimes);
  const notes: string[] = [];
  const samples: Sample[] = [];
  const inst = new Map<VnodeRuntime, Instance>();
  const started: ContainerdInstance[] = [];
  try {
    for (const rt of runtimes) {
      progress(`containerd ${version}: starting a private instance${runtimes.length > 1 || rt !== 'runc' ? ` for vnode+${rt}` : ''}`);
      const ctd = await startInstance(version, rt, o, o.crunHandler && rt === runtimes[0]);
      started.push(ctd);
      progress(`containerd ${ctd.fullVersion} (${ctd.id}) ready`);
      const envs: Instance['envs'] = { runc: criEnv(ctd, 'runc'), vnode: criEnv(ctd, 'vnode') };
      if (o.crunHandler && rt === runtimes[0]) envs.crun = criEnv(ctd, 'crun');
      inst.set(rt, { ctd, envs, loc: managerLocation(ctd.address), baseVnodes: 0, anchors: [] });
    }
    const fullVersions = [...new Set(started.map((c) => c.fullVersion))];
    if (fullVersions.length > 1) notes.push(`the containerd instances report different versions: ${fullVersions.join(', ')}`);
    const runId = randomBytes(2).toString('hex');

    // Anchors: a long-running pod per handler and containerd. The vnode one keeps the
    // "existing" vNode alive (and starts the manager); the runc one keeps the handlers'
    // backgrounds alike.
    for (const [rt, i] of inst) {
      for (const h of ['runc', 'crun', 'vnode'] as const) {
        const env = i.envs[h];
        if (!env) continue;
        const a = await startPod(env, h === 'vnode' ? 'bench-existing' : `bench-${h}`);
        i.anchors.push({ env, podId: a.podId, what: `${h} anchor on vnode+${rt}'s containerd` });
        progress(`anchor ${h}${runtimes.length > 1 ? ` (vnode+${rt}'s containerd)` : ''} running in ${fmtMs(a.totalMs)} ms${h === 'vnode' ? ` (manager start + first vNode; manager pid ${managerPid(i.loc) ?? '?'})` : ''}`);
      }
      i.baseVnodes = vnodeRecords(i.loc).length;
      i.managerPid = managerPid(i.loc);
      if (i.baseVnodes !== 1) notes.push(`vnode+${rt}: expected 1 vNode after the anchor pod, the manager has ${i.baseVnodes}`);
      // which runtime's state the anchors left (runc: <id>/state.json, crun: <id>/status)
      const seen = stateKinds(join(i.loc.dir, 'runtime'));
      if (seen.join() !== rt) notes.push(`vnode+${rt}: the manager's runtime root holds ${seen.join(', ') || 'nothing'}'s state, expected ${rt}'s`);
      if (i.envs.crun) {
        const h = stateKinds(join(o.wrappers.crunHandlerRoot!, 'k8s.io'));
        if (h.join() !== 'crun') notes.push(`crun handler: its runtime root holds ${h.join(', ') || 'nothing'}'s state, expected crun's`);
      }
    }

    let seq = 0;
    for (let r = 0; r < warmup + iterations; r++) {
      const isWarm = r < warmup;
      for (const { def, instance } of order) {
        const i = inst.get(instance)!;
        const env = i.envs[def.handler]!;
        const ns = def.handler !== 'vnode' ? `bench-${def.handler}` : def.kind === 'existing' ? 'bench-existing' : `bench-new-${runId}-${r}`;
        const s: Sample = { case: def.name, instance, round: r, warmup: isWarm, seq: seq++, totalMs: NaN, steps: { RunPodSandbox: NaN, CreateContainer: NaN, StartContainer: NaN, untilRunning: NaN }, removeMs: NaN };
        try {
          const res = await startPod(env, ns);
          s.totalMs = res.totalMs;
          s.steps = res.steps;
          if (def.handler === 'vnode') s.vnodesWhileRunning = vnodeRecords(i.loc).length;
          s.removeMs = await removePod(env, res.podId);
          if (def.kind === 'new') await waitVnodes(i.loc, i.baseVnodes);
        } catch (e) {
          s.error = (e as Error).message.split('\n')[0];
          progress(`round ${r} ${def.name}: FAILED: ${s.error}`);
        }
        samples.push(s);
        await sleep(pauseMs);
      }
      const last = samples.slice(-order.length).map((s) => `${s.case} ${fmtMs(s.totalMs)}`).join(', ');
      progress(`containerd ${version} round ${r + 1}/${warmup + iterations}${isWarm ? ' (warm-up)' : ''}: ${last} ms`);
    }
    for (const s of samples) {
      if (s.warmup || s.error || s.vnodesWhileRunning === undefined) continue;
      const base = inst.get(s.instance)!.baseVnodes;
      const want = s.case.endsWith('-new') ? base + 1 : base;
      if (s.vnodesWhileRunning !== want) notes.push(`round ${s.round} ${s.case}: manager had ${s.vnodesWhileRunning} vNodes while the pod ran, expected ${want}`);
    }
    for (const [rt, i] of inst) {
      const pid = managerPid(i.loc);
      if (pid !== i.managerPid) notes.push(`vnode+${rt}: the manager's pid went from ${i.managerPid ?? '?'} to ${pid ?? 'none'} during the run`);
      if (samples.some((s) => s.error && s.instance === rt) && existsSync(i.loc.logFile)) {
        const keep = join(tmpdir(), `pod-start-${runId}-${version}-${rt}-manager.log`);
        copyFileSync(i.loc.logFile, keep);
        copyFileSync(i.ctd.logPath, keep.replace(/manager\.log$/, 'containerd.log'));
        notes.push(`vnode+${rt}: a start failed; the manager's and containerd's logs are kept in ${keep.replace(/manager\.log$/, '{manager,containerd}.log')}`);
      }
    }
    for (const i of inst.values()) {
      for (const a of [...i.anchors].reverse()) await removePod(a.env, a.podId).catch((e: Error) => notes.push(`removing the ${a.what}: ${e.message}`));
    }
    const vnodeRuntimes: VersionResult['vnodeRuntimes'] = {};
    for (const rt of runtimes) vnodeRuntimes[rt] = rt === 'crun' ? `${o.wrappers.vnodeCrun} (wrapper of ${crunBinary()})` : 'runc on containerd\'s PATH (the harness\'s wrapper of /usr/sbin/runc)';
    return { ...analyse(version, started[0]!.fullVersion, defs, runtimes, o, samples, notes), vnodeRuntimes, ...(o.vnodeBinDir ? { vnodeBinDir: o.vnodeBinDir } : {}) };
  } finally {
    progress(`containerd ${version}: stopping and cleaning up`);
    for (const ctd of started) {
      await ctd.stop();
      await removeManagerDirs(ctd.address);
    }
  }
}

function ratioOf(v: Summary, r: Summary, paired: number[], budget?: number): Ratio {
  return { p50: v.p50 / r.p50, p90: v.p90 / r.p90, mean: v.mean / r.mean, ...(budget !== undefined ? { budget } : {}), pairedMedian: median(paired) };
}

function analyse(version: ContainerdVersion, full: string, defs: CaseDef[], runtimes: VnodeRuntime[], o: RunOptions, samples: Sample[], notes: string[]): Omit<VersionResult, 'vnodeRuntimes'> {
  const measured = samples.filter((s) => !s.warmup);
  const summarizeCase = (ok: Sample[], all: Sample[]): CaseResult => {
    const steps = {} as Record<Step, Summary>;
    for (const st of STEPS) steps[st] = summarize(ok.map((s) => s.steps[st]));
    return { total: summarize(ok.map((s) => s.totalMs)), steps, remove: summarize(ok.map((s) => s.removeMs)), failures: all.filter((s) => s.error).length };
  };
  const cases: Record<CaseName, CaseResult> = {};
  for (const d of defs) {
    const all = measured.filter((s) => s.case === d.name);
    cases[d.name] = summarizeCase(all.filter((s) => !s.error), all);
  }
  let runcByInstance: VersionResult['runcByInstance'];
  if (runtimes.length > 1) {
    runcByInstance = {};
    for (const rt of runtimes) runcByInstance[rt] = summarize(measured.filter((s) => s.case === 'runc' && s.instance === rt && !s.error).map((s) => s.totalMs));
  }
  const ratios: Record<CaseName, Ratio> = {};
  for (const d of defs) {
    if (d.handler === 'runc') continue;
    // paired: each start against the runc start run just before it, on the same containerd (same drift)
    const paired: number[] = [];
    for (const s of measured) {
      if (s.case !== d.name || s.error) continue;
      const prev = samples.find((p) => p.seq === s.seq - 1);
      if (prev && prev.case === 'runc' && prev.instance === s.instance && !prev.error) paired.push(s.totalMs / prev.totalMs);
    }
    ratios[d.name] = ratioOf(cases[d.name]!.total, cases.runc!.total, paired, d.budget);
  }
  let crunVsRunc: VersionResult['crunVsRunc'];
  if (runtimes.includes('runc') && runtimes.includes('crun')) {
    crunVsRunc = {};
    for (const kind of ['existing', 'new'] as const) {
      const c = vnodeCaseName('crun', kind);
      const r = vnodeCaseName('runc', kind);
      const paired: number[] = [];
      for (const s of measured) {
        if (s.case !== c || s.error) continue;
        const q = measured.find((p) => p.case === r && p.round === s.round && !p.error);
        if (q) paired.push(s.totalMs / q.totalMs);
      }
      crunVsRunc[kind] = ratioOf(cases[c]!.total, cases[r]!.total, paired);
    }
  }
  return {
    containerd: version, containerdVersion: full, iterations: o.iterations, warmup: o.warmup, cases,
    ...(runcByInstance ? { runcByInstance } : {}), ratios, ...(crunVsRunc ? { crunVsRunc } : {}), notes, samples,
  };
}

function report(machine: MachineInfo, crun: string | undefined, defs: CaseDef[], runtimes: VnodeRuntime[], results: VersionResult[], managerEnv: Record<string, string>): string {
  const others = defs.filter((d) => d.handler !== 'runc');
  const order = roundOrder(defs, runtimes).map(({ def, instance }) => (def.handler === 'runc' && runtimes.length > 1 ? `runc (${instance === runtimes[0] ? 'A' : 'B'})` : def.label.replace(' vNode', '')));
  let out = `Pod start latency: RunPodSandbox + CreateContainer + StartContainer → CONTAINER_RUNNING (busybox sleep 3600)\n`;
  out += `${machine.date}  ${machine.hostname}  kernel ${machine.kernel}  ${machine.cpus} × ${machine.cpuModel}  ${machine.memTotalMiB} MiB  node ${machine.node}  runc ${machine.runc}${crun ? `  crun ${crun}` : ''}  load ${machine.loadavg}\n`;
  for (const r of results) {
    out += `\ncontainerd ${r.containerdVersion}: ${r.iterations} rounds measured (${r.warmup} warm-up discarded); round = ${order.join(', ')}\n`;
    if (runtimes.length > 1) out += `containerd A: vnode drives ${runtimes[0]}; containerd B: vnode drives ${runtimes[1]} (same version and config; the runc reference is every runc start, on both)\n`;
    else if (runtimes[0] !== 'runc') out += `vnode drives ${runtimes[0]}\n`;
    if (Object.keys(managerEnv).length > 0) out += `EXPERIMENT: containerd's environment adds ${Object.entries(managerEnv).map(([k, v]) => `${k}=${v}`).join(' ')}\n`;
    out += r.vnodeBinDir ? `EXPERIMENT: containerd-shim-vnode-v2 from ${r.vnodeBinDir}\n\n` : '\n';
    const rows: (string | number)[][] = [];
    for (const d of defs) {
      const t = r.cases[d.name]!.total;
      rows.push([d.label, t.n, fmtMs(t.p50), fmtMs(t.p90), fmtMs(t.mean), fmtMs(t.min), fmtMs(t.max), r.cases[d.name]!.failures]);
      if (d.handler === 'runc' && r.runcByInstance) {
        for (const [rt, t2] of Object.entries(r.runcByInstance)) rows.push([`  runc on ${rt === runtimes[0] ? 'A' : 'B'} (vnode+${rt}'s)`, t2.n, fmtMs(t2.p50), fmtMs(t2.p90), fmtMs(t2.mean), fmtMs(t2.min), fmtMs(t2.max), '']);
      }
    }
    out += table(['case (ms)', 'n', 'p50', 'p90', 'mean', 'min', 'max', 'fail'], rows);
    out += '\n';
    out += table(
      [others.length === 2 && runtimes.join() === 'runc' ? 'vnode / runc' : 'vs runc handler', 'p50', 'p90', 'mean', 'paired median', 'budget', 'within (p50)'],
      others.map((d) => {
        const x = r.ratios[d.name]!;
        return [d.label, fmtRatio(x.p50), fmtRatio(x.p90), fmtRatio(x.mean), fmtRatio(x.pairedMedian), x.budget !== undefined ? `≤ ${x.budget}×` : '-', x.budget === undefined ? '-' : x.p50 <= x.budget ? 'yes' : 'NO'];
      }),
    );
    if (r.crunVsRunc) {
      out += '\n';
      out += table(
        ['vnode+crun / vnode+runc', 'p50', 'p90', 'mean', 'paired median (same round)'],
        (['existing', 'new'] as const).map((k) => {
          const x = r.crunVsRunc![k]!;
          return [`${k} vNode`, fmtRatio(x.p50), fmtRatio(x.p90), fmtRatio(x.mean), fmtRatio(x.pairedMedian)];
        }),
      );
    }
    out += '\nbreakdown per CRI call, p50 / mean (ms)\n\n';
    out += table(
      ['case', ...STEPS.map((s) => (s === 'untilRunning' ? '→ RUNNING' : s)), 'total', '(remove)'],
      defs.map((d) => {
        const k = r.cases[d.name]!;
        return [d.label, ...STEPS.map((s) => `${fmtMs(k.steps[s].p50)} / ${fmtMs(k.steps[s].mean)}`), `${fmtMs(k.total.p50)} / ${fmtMs(k.total.mean)}`, `${fmtMs(k.remove.p50)} / ${fmtMs(k.remove.mean)}`];
      }),
    );
    out += `\ndifference ${others.some((d) => d.handler === 'crun') || runtimes.length > 1 ? 'case' : 'vnode'} − runc per CRI call, p50 (ms)\n\n`;
    out += table(
      ['case', ...STEPS.map((s) => (s === 'untilRunning' ? '→ RUNNING' : s)), 'total'],
      others.map((d) => [
        d.label,
        ...STEPS.map((s) => signed(r.cases[d.name]!.steps[s].p50 - r.cases.runc!.steps[s].p50)),
        signed(r.cases[d.name]!.total.p50 - r.cases.runc!.total.p50),
      ]),
    );
    if (r.crunVsRunc) {
      out += '\ndifference vnode+crun − vnode+runc per CRI call, p50 (ms)\n\n';
      out += table(
        ['case', ...STEPS.map((s) => (s === 'untilRunning' ? '→ RUNNING' : s)), 'total'],
        (['existing', 'new'] as const).map((k) => {
          const c = r.cases[vnodeCaseName('crun', k)]!;
          const v = r.cases[vnodeCaseName('runc', k)]!;
          return [`${k} vNode`, ...STEPS.map((s) => signed(c.steps[s].p50 - v.steps[s].p50)), signed(c.total.p50 - v.total.p50)];
        }),
      );
    }
    for (const n of r.notes) out += `note: ${n}\n`;
  }
  return out;
}

function signed(x: number): string {
  return Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(0)}` : '-';
}

function managerEnvFlag(v: string | undefined): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of (v ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(pair);
    if (!m) throw new Error(`--manager-env takes NAME=VALUE pairs separated by commas, not ${JSON.stringify(pair)}`);
    if (m[1] === 'VNODE_RUNTIME') throw new Error('--manager-env: VNODE_RUNTIME is chosen by --vnode-runtime');
    env[m[1]!] = m[2]!;
  }
  return env;
}

function vnodeRuntimesFlag(v: string | undefined): VnodeRuntime[] {
  const list = (v ?? 'runc').split(',').map((s) => s.trim()).filter(Boolean);
  for (const x of list) if (x !== 'runc' && x !== 'crun') throw new Error(`--vnode-runtime takes runc, crun or runc,crun, not ${JSON.stringify(x)}`);
  const uniq = [...new Set(list)] as VnodeRuntime[];
  if (uniq.length === 0) throw new Error('--vnode-runtime needs runc, crun or runc,crun');
  return uniq;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { values: ['iterations', 'warmup', 'containerd', 'pause-ms', 'json-file', 'vnode-bin-dir', 'vnode-runtime', 'manager-env'], booleans: ['json', 'crun-handler'] }, USAGE);
  const runtimes = vnodeRuntimesFlag(flags.values.get('vnode-runtime'));
  const crunHandler = flags.bools.has('crun-handler');
  if (process.env['VNODE_TEST_RUNTIME']) {
    progress(`VNODE_TEST_RUNTIME=${process.env['VNODE_TEST_RUNTIME']} ignored: --vnode-runtime chooses (now ${runtimes.join(',')})`);
    delete process.env['VNODE_TEST_RUNTIME'];
  }
  const vnodeBinDir = flags.values.get('vnode-bin-dir');
  const machine = machineInfo();
  const needCrun = runtimes.includes('crun') || crunHandler;
  const crun = needCrun ? crunBinary() : undefined;
  const crunVersion = crun ? versionLine(crun, /^crun version\s*/) : undefined;
  // crun behind the same oomScoreAdj wrapper the harness puts before runc (so that both
  // runtimes pay the same sh + grep per call); the plain crun handler's also binds /dev/null
  // over the hybrid cgroup.controllers, as vnode's manager does for crun (docs/runtime.md)
  const wrapDir = needCrun ? mkdtempSync(join(tmpdir(), 'vnode-bench-crun-')) : undefined;
  const wrappers: RunOptions['wrappers'] = {};
  if (wrapDir && crun) {
    if (runtimes.includes('crun')) writeRuntimeWrapper((wrappers.vnodeCrun = join(wrapDir, 'crun')), crun);
    if (crunHandler) {
      writeRuntimeWrapper((wrappers.crunHandler = join(wrapDir, 'crun-handler')), crun, existsSync(HYBRID_CONTROLLERS) ? { hideFiles: [HYBRID_CONTROLLERS] } : {});
      wrappers.crunHandlerRoot = join(wrapDir, 'root');
    }
  }
  const o: RunOptions = {
    iterations: intFlag(flags, 'iterations', 15, 1), warmup: intFlag(flags, 'warmup', 2, 0), pauseMs: intFlag(flags, 'pause-ms', 250, 0),
    runtimes, crunHandler, wrappers, managerEnv: managerEnvFlag(flags.values.get('manager-env')), ...(vnodeBinDir ? { vnodeBinDir } : {}),
  };
  const results: VersionResult[] = [];
  try {
    for (const v of containerdVersions(flags)) results.push(await runVersion(v, o));
  } finally {
    if (wrapDir) rmSync(wrapDir, { recursive: true, force: true });
  }
  const rounded = JSON.parse(JSON.stringify(results, (_k, val: unknown) => (typeof val === 'number' ? round(val, 2) : val))) as unknown;
  const json = JSON.stringify({ benchmark: 'pod-start', machine: { ...machine, ...(crunVersion ? { crun: crunVersion } : {}) }, vnodeRuntimes: runtimes, crunHandler, managerEnv: o.managerEnv, results: rounded }, null, 2) + '\n';
  const file = flags.values.get('json-file');
  if (file) writeFileSync(file, json);
  if (flags.bools.has('json')) {
    process.stdout.write(json);
  } else {
    process.stdout.write(report(machine, crunVersion, caseDefs(runtimes, crunHandler), runtimes, results, o.managerEnv));
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`pod-start: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
