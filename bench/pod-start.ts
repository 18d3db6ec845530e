// Pod start latency: RunPodSandbox + CreateContainer + StartContainer until ContainerStatus
// says CONTAINER_RUNNING (busybox `sleep 3600`), runtime handler `runc` vs `vnode` on the SAME
// private containerd in the SAME run, interleaved so that drift of this shared machine hits
// both alike. Each round runs: runc, vnode (existing vNode), runc, vnode (new vNode).
//
//   existing vNode: pods in a Kubernetes namespace that already has a running vnode pod
//                   (an anchor pod started before the measurements), so its vNode exists;
//   new vNode:      a fresh Kubernetes namespace per pod, so every start creates a vNode.
//
// Pods are stopped and removed between starts (not timed into the start). Warm-up rounds
// are discarded. Not a test: it never asserts timings, it reports them.
//
//   node --import tsx bench/pod-start.ts [--iterations N] [--warmup W] [--containerd 2|1.7|2,1.7|all] [--json]
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startContainerd, type ContainerdInstance, type ContainerdVersion } from '../test/support/containerd.js';
import { criEnv, type CriEnv } from '../test/support/cri.js';
import {
  containerdVersions, fmtMs, fmtRatio, intFlag, machineInfo, managerLocation, managerPid, median, nowMs, parseFlags, progress,
  removeManagerDirs, removePod, round, sleep, startPod, summarize, table, vnodeRecords, type MachineInfo, type ManagerLocation, type Step, type Summary, STEPS,
} from './lib.js';

const USAGE = `usage: node --import tsx bench/pod-start.ts [--iterations N] [--warmup W] [--containerd 2|1.7|2,1.7|all] [--pause-ms MS] [--json] [--json-file F] [--vnode-bin-dir D]
  --iterations N   measured rounds (default 15); each round starts runc, vnode (existing), runc, vnode (new)
  --warmup W       rounds run first and discarded (default 2)
  --containerd V   containerd version(s) to run against (default 2)
  --pause-ms MS    idle time after removing a pod, before the next start (default 250)
  --json           print the results as JSON on stdout instead of tables
  --json-file F    also write the JSON results to F
  --vnode-bin-dir D  containerd finds containerd-shim-vnode-v2 in D first (experiments, e.g.
                   bench/experiments/fast-start: a shell fast path of "start")
`;

type CaseName = 'runc' | 'vnode-existing' | 'vnode-new';
const CASES: CaseName[] = ['runc', 'vnode-existing', 'vnode-new'];
const CASE_LABEL: Record<CaseName, string> = { 'runc': 'runc', 'vnode-existing': 'vnode, existing vNode', 'vnode-new': 'vnode, new vNode' };
const BUDGET: Record<Exclude<CaseName, 'runc'>, number> = { 'vnode-existing': 1.15, 'vnode-new': 1.5 };

interface Sample {
  case: CaseName;
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

interface VersionResult {
  containerd: ContainerdVersion;
  containerdVersion: string;
  /** Where containerd found containerd-shim-vnode-v2 first, when not the repo's bin/ (experiments). */
  vnodeBinDir?: string;
  iterations: number;
  warmup: number;
  cases: Record<CaseName, CaseResult>;
  /** vnode / runc over all measured samples (p50 vs p50, p90 vs p90, mean vs mean). */
  ratios: Record<Exclude<CaseName, 'runc'>, { p50: number; p90: number; mean: number; budget: number; pairedMedian: number }>;
  notes: string[];
  samples: Sample[];
}

/** Waits (≤ 5 s) until the manager has `n` vNodes: the removal of a vNode finishes before the next start. */
async function waitVnodes(loc: ManagerLocation, n: number): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (vnodeRecords(loc).length !== n && Date.now() < deadline) await sleep(20);
}

async function runVersion(version: ContainerdVersion, iterations: number, warmup: number, pauseMs: number, vnodeBinDir?: string): Promise<VersionResult> {
  progress(`containerd ${version}: starting a private instance`);
  const ctd: ContainerdInstance = await startContainerd({ version, ...(vnodeBinDir ? { vnodeBinDir: resolve(vnodeBinDir) } : {}) });
  const notes: string[] = [];
  const samples: Sample[] = [];
  try {
    progress(`containerd ${ctd.fullVersion} (${ctd.id}) ready`);
    const envs: Record<'runc' | 'vnode', CriEnv> = { runc: criEnv(ctd, 'runc'), vnode: criEnv(ctd, 'vnode') };
    const loc = managerLocation(ctd.address);
    const runId = randomBytes(2).toString('hex');

    // Anchors: a long-running pod per handler. The vnode one keeps the "existing" vNode alive
    // (and starts the manager); the runc one keeps the two handlers' backgrounds alike.
    const anchorRunc = await startPod(envs.runc, 'bench-runc');
    const anchorVnode = await startPod(envs.vnode, 'bench-existing');
    progress(`anchors running (runc ${fmtMs(anchorRunc.totalMs)} ms, vnode with manager start + first vNode ${fmtMs(anchorVnode.totalMs)} ms); manager pid ${managerPid(loc) ?? '?'}`);
    const baseVnodes = vnodeRecords(loc).length;
    if (baseVnodes !== 1) notes.push(`expected 1 vNode after the anchor pod, the manager has ${baseVnodes}`);

    const order: CaseName[] = ['runc', 'vnode-existing', 'runc', 'vnode-new'];
    let seq = 0;
    for (let r = 0; r < warmup + iterations; r++) {
      const isWarm = r < warmup;
      for (const c of order) {
        const env = c === 'runc' ? envs.runc : envs.vnode;
        const ns = c === 'runc' ? 'bench-runc' : c === 'vnode-existing' ? 'bench-existing' : `bench-new-${runId}-${r}`;
        const s: Sample = { case: c, round: r, warmup: isWarm, seq: seq++, totalMs: NaN, steps: { RunPodSandbox: NaN, CreateContainer: NaN, StartContainer: NaN, untilRunning: NaN }, removeMs: NaN };
        try {
          const res = await startPod(env, ns);
          s.totalMs = res.totalMs;
          s.steps = res.steps;
          if (c !== 'runc') s.vnodesWhileRunning = vnodeRecords(loc).length;
          s.removeMs = await removePod(env, res.podId);
          if (c === 'vnode-new') await waitVnodes(loc, baseVnodes);
        } catch (e) {
          s.error = (e as Error).message.split('\n')[0];
          progress(`round ${r} ${c}: FAILED: ${s.error}`);
        }
        samples.push(s);
        await sleep(pauseMs);
      }
      const last = samples.slice(-order.length).map((s) => `${s.case} ${fmtMs(s.totalMs)}`).join(', ');
      progress(`containerd ${version} round ${r + 1}/${warmup + iterations}${isWarm ? ' (warm-up)' : ''}: ${last} ms`);
    }
    for (const s of samples) {
      if (s.warmup || s.error || s.vnodesWhileRunning === undefined) continue;
      const want = s.case === 'vnode-new' ? baseVnodes + 1 : baseVnodes;
      if (s.vnodesWhileRunning !== want) notes.push(`round ${s.round} ${s.case}: manager had ${s.vnodesWhileRunning} vNodes while the pod ran, expected ${want}`);
    }
    await removePod(envs.vnode, anchorVnode.podId).catch((e: Error) => notes.push(`removing the vnode anchor: ${e.message}`));
    await removePod(envs.runc, anchorRunc.podId).catch((e: Error) => notes.push(`removing the runc anchor: ${e.message}`));
    return { ...analyse(version, ctd.fullVersion, iterations, warmup, samples, notes), ...(vnodeBinDir ? { vnodeBinDir } : {}) };
  } finally {
    progress(`containerd ${version}: stopping and cleaning up`);
    await ctd.stop();
    await removeManagerDirs(ctd.address);
  }
}

function analyse(version: ContainerdVersion, full: string, iterations: number, warmup: number, samples: Sample[], notes: string[]): VersionResult {
  const measured = samples.filter((s) => !s.warmup);
  const cases = {} as Record<CaseName, CaseResult>;
  for (const c of CASES) {
    const ok = measured.filter((s) => s.case === c && !s.error);
    const steps = {} as Record<Step, Summary>;
    for (const st of STEPS) steps[st] = summarize(ok.map((s) => s.steps[st]));
    cases[c] = { total: summarize(ok.map((s) => s.totalMs)), steps, remove: summarize(ok.map((s) => s.removeMs)), failures: measured.filter((s) => s.case === c && s.error).length };
  }
  const ratios = {} as VersionResult['ratios'];
  for (const c of ['vnode-existing', 'vnode-new'] as const) {
    // paired: each vnode start against the runc start run just before it (same drift)
    const paired: number[] = [];
    for (const s of measured) {
      if (s.case !== c || s.error) continue;
      const prev = samples.find((p) => p.seq === s.seq - 1);
      if (prev && prev.case === 'runc' && !prev.error) paired.push(s.totalMs / prev.totalMs);
    }
    const v = cases[c].total;
    const r = cases.runc.total;
    ratios[c] = { p50: v.p50 / r.p50, p90: v.p90 / r.p90, mean: v.mean / r.mean, budget: BUDGET[c], pairedMedian: median(paired) };
  }
  return { containerd: version, containerdVersion: full, iterations, warmup, cases, ratios, notes, samples };
}

function report(machine: MachineInfo, results: VersionResult[]): string {
  let out = `Pod start latency: RunPodSandbox + CreateContainer + StartContainer → CONTAINER_RUNNING (busybox sleep 3600)\n`;
  out += `${machine.date}  ${machine.hostname}  kernel ${machine.kernel}  ${machine.cpus} × ${machine.cpuModel}  ${machine.memTotalMiB} MiB  node ${machine.node}  runc ${machine.runc}  load ${machine.loadavg}\n`;
  for (const r of results) {
    out += `\ncontainerd ${r.containerdVersion}: ${r.iterations} rounds measured (${r.warmup} warm-up discarded); round = runc, vnode existing, runc, vnode new\n`;
    out += r.vnodeBinDir ? `EXPERIMENT: containerd-shim-vnode-v2 from ${r.vnodeBinDir}\n\n` : '\n';
    out += table(
      ['case (ms)', 'n', 'p50', 'p90', 'mean', 'min', 'max', 'fail'],
      CASES.map((c) => {
        const t = r.cases[c].total;
        return [CASE_LABEL[c], t.n, fmtMs(t.p50), fmtMs(t.p90), fmtMs(t.mean), fmtMs(t.min), fmtMs(t.max), r.cases[c].failures];
      }),
    );
    out += '\n';
    out += table(
      ['vnode / runc', 'p50', 'p90', 'mean', 'paired median', 'budget', 'within (p50)'],
      (['vnode-existing', 'vnode-new'] as const).map((c) => {
        const x = r.ratios[c];
        return [CASE_LABEL[c], fmtRatio(x.p50), fmtRatio(x.p90), fmtRatio(x.mean), fmtRatio(x.pairedMedian), `≤ ${x.budget}×`, x.p50 <= x.budget ? 'yes' : 'NO'];
      }),
    );
    out += '\nbreakdown per CRI call, p50 / mean (ms)\n\n';
    out += table(
      ['case', ...STEPS.map((s) => (s === 'untilRunning' ? '→ RUNNING' : s)), 'total', '(remove)'],
      CASES.map((c) => {
        const k = r.cases[c];
        return [CASE_LABEL[c], ...STEPS.map((s) => `${fmtMs(k.steps[s].p50)} / ${fmtMs(k.steps[s].mean)}`), `${fmtMs(k.total.p50)} / ${fmtMs(k.total.mean)}`, `${fmtMs(k.remove.p50)} / ${fmtMs(k.remove.mean)}`];
      }),
    );
    out += '\ndifference vnode − runc per CRI call, p50 (ms)\n\n';
    out += table(
      ['case', ...STEPS.map((s) => (s === 'untilRunning' ? '→ RUNNING' : s)), 'total'],
      (['vnode-existing', 'vnode-new'] as const).map((c) => [
        CASE_LABEL[c],
        ...STEPS.map((s) => signed(r.cases[c].steps[s].p50 - r.cases.runc.steps[s].p50)),
        signed(r.cases[c].total.p50 - r.cases.runc.total.p50),
      ]),
    );
    for (const n of r.notes) out += `note: ${n}\n`;
  }
  return out;
}

function signed(x: number): string {
  return Number.isFinite(x) ? `${x >= 0 ? '+' : ''}${x.toFixed(0)}` : '-';
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { values: ['iterations', 'warmup', 'containerd', 'pause-ms', 'json-file', 'vnode-bin-dir'], booleans: ['json'] }, USAGE);
  const iterations = intFlag(flags, 'iterations', 15, 1);
  const warmup = intFlag(flags, 'warmup', 2, 0);
  const pauseMs = intFlag(flags, 'pause-ms', 250, 0);
  const versions = containerdVersions(flags);
  const machine = machineInfo();
  const results: VersionResult[] = [];
  const vnodeBinDir = flags.values.get('vnode-bin-dir');
  for (const v of versions) results.push(await runVersion(v, iterations, warmup, pauseMs, vnodeBinDir));
  const rounded = JSON.parse(JSON.stringify(results, (_k, val: unknown) => (typeof val === 'number' ? round(val, 2) : val))) as unknown;
  const json = JSON.stringify({ benchmark: 'pod-start', machine, results: rounded }, null, 2) + '\n';
  const file = flags.values.get('json-file');
  if (file) writeFileSync(file, json);
  if (flags.bools.has('json')) {
    process.stdout.write(json);
  } else {
    process.stdout.write(report(machine, results));
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`pod-start: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
