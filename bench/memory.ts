// Memory: the vnode manager's RSS/PSS at idle, and host memory per additional vNode, with
// containerd's runc handler doing the same pods as the reference — on one private containerd.
//
//   1. An anchor vnode pod starts the manager (and one vNode). After a settle time the
//      manager's VmRSS (/proc/<pid>/status) and Pss (/proc/<pid>/smaps_rollup) are "idle".
//   2. N pods (default 50), each in its own Kubernetes namespace → N new vNodes. Before and
//      after: every process of the containerd instance, grouped (manager, vnode-init, shims,
//      pause, workload, containerd), plus /proc/meminfo. Per vNode:
//        processes: Δ(Σ vnode-init) + Δ(manager)          (RSS and PSS)
//        host:      Δ MemAvailable / N   (includes the pods' own processes and kernel memory:
//                   namespaces, mounts, cgroups, page tables; noisy on a shared machine)
//   3. The same N pods with the runc handler: per pod Δ(Σ containerd-shim-runc-v2), and
//      Δ MemAvailable / N.
// The pods' own processes (pause, sleep) are the same under both handlers and are reported
// separately. Not a test: nothing is asserted.
//
//   node --import tsx bench/memory.ts [--vnodes N] [--containerd 2|1.7|2,1.7|all] [--sandbox-only] [--json]
import { readFileSync, writeFileSync } from 'node:fs';
import { startContainerd, instanceProcesses, type ContainerdInstance, type ContainerdVersion } from '../test/support/containerd.js';
import { criEnv, type CriEnv } from '../test/support/cri.js';
import {
  containerdVersions, intFlag, machineInfo, managerLocation, managerPid, median, meminfo, parseFlags, procMem, progress,
  removeManagerDirs, removePod, round, sleep, startPod, table, vnodeRecords, type MachineInfo, type ManagerLocation, type ProcMem,
} from './lib.js';

const USAGE = `usage: node --import tsx bench/memory.ts [--vnodes N] [--containerd 2|1.7|2,1.7|all] [--sandbox-only] [--settle-ms MS] [--cycles K] [--manager-node-options O] [--json] [--json-file F]
  --vnodes N       additional vNodes (pods, one namespace each) to create (default 50)
  --containerd V   containerd version(s) (default 2)
  --sandbox-only   pause-only pod sandboxes (default: sandbox + busybox sleep container)
  --settle-ms MS   wait before each measurement (default 5000; the idle manager: 2 × MS)
  --cycles K       create and remove the N vnode pods K times; manager memory after each (default 1)
  --manager-node-options O  NODE_OPTIONS in containerd's environment, inherited by the Node.js
                   shim and the manager it spawns (experiments, e.g. "--max-semi-space-size=1")
  --json           results as JSON on stdout
  --json-file F    also write the JSON results to F
`;

/** Process groups of a containerd instance. */
const GROUPS = ['vnode-manager', 'vnode-init', 'vnode-hold', 'containerd-shim-runc-v2', 'containerd', 'pause', 'workload', 'other'] as const;
type Group = (typeof GROUPS)[number];

interface GroupMem {
  count: number;
  /** kB */
  rss: number;
  /** kB */
  pss: number;
}

interface Snapshot {
  at: string;
  groups: Record<Group, GroupMem>;
  /** /proc/meminfo fields of interest, kB (median of several reads) */
  mem: Record<string, number>;
  managerPid?: number;
  vnodes: number;
  /** /proc/slabinfo: cache → active_objs × objsize, bytes */
  slab: Record<string, number>;
}

function slabinfo(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const l of readFileSync('/proc/slabinfo', 'utf8').split('\n').slice(2)) {
      const f = l.split(/\s+/);
      if (f.length > 4) out[f[0]!] = Number(f[1]) * Number(f[3]);
    }
  } catch {
    /* not readable */
  }
  return out;
}

/** The caches that grew most between two snapshots, bytes per pod. */
function slabGrowth(a: Snapshot, b: Snapshot, n: number, top = 8): [string, number][] {
  return Object.keys(b.slab)
    .map((k): [string, number] => [k, ((b.slab[k] ?? 0) - (a.slab[k] ?? 0)) / n])
    .sort((x, y) => y[1] - x[1])
    .slice(0, top);
}

const MEMINFO_FIELDS = ['MemAvailable', 'MemFree', 'Slab', 'SUnreclaim', 'KernelStack', 'PageTables', 'Shmem', 'Cached'];

function classify(ctd: ContainerdInstance, loc: ManagerLocation): Map<number, Group> {
  const mgr = managerPid(loc);
  const inits = new Set(vnodeRecords(loc).map((v) => v.initPid));
  const pids = new Set(instanceProcesses(ctd));
  if (mgr) pids.add(mgr);
  for (const p of inits) pids.add(p);
  const out = new Map<number, Group>();
  for (const pid of pids) {
    let comm = '';
    try {
      comm = procMem(pid)?.comm ?? '';
    } catch {
      continue;
    }
    if (!comm) continue;
    let g: Group;
    if (pid === mgr) g = 'vnode-manager';
    else if (inits.has(pid)) g = 'vnode-init';
    else if (pid === ctd.pid) g = 'containerd';
    else if (comm === 'vnode-hold') g = 'vnode-hold';
    else if (comm.startsWith('containerd-shim')) g = 'containerd-shim-runc-v2';
    else if (comm === 'catatonit' || comm === 'pause') g = 'pause';
    else if (comm === 'sleep') g = 'workload';
    else g = 'other';
    out.set(pid, g);
  }
  return out;
}

async function snapshot(ctd: ContainerdInstance, loc: ManagerLocation, others: Map<string, Set<number>>): Promise<Snapshot> {
  // meminfo: median of 5 reads over ~1 s (other work on the machine moves it)
  const reads: Record<string, number>[] = [];
  for (let i = 0; i < 5; i++) {
    reads.push(meminfo());
    await sleep(250);
  }
  const mem: Record<string, number> = {};
  for (const f of MEMINFO_FIELDS) mem[f] = median(reads.map((r) => r[f] ?? NaN));
  const groups = Object.fromEntries(GROUPS.map((g) => [g, { count: 0, rss: 0, pss: 0 }])) as Record<Group, GroupMem>;
  for (const [pid, g] of classify(ctd, loc)) {
    const m: ProcMem | undefined = procMem(pid);
    if (!m) continue;
    groups[g].count++;
    groups[g].rss += m.rss;
    groups[g].pss += m.pss;
    if (g === 'other') others.set(m.comm, (others.get(m.comm) ?? new Set<number>()).add(pid));
  }
  return { at: new Date().toISOString(), groups, mem, managerPid: managerPid(loc), vnodes: vnodeRecords(loc).length, slab: slabinfo() };
}

function delta(a: Snapshot, b: Snapshot, g: Group): GroupMem {
  return { count: b.groups[g].count - a.groups[g].count, rss: b.groups[g].rss - a.groups[g].rss, pss: b.groups[g].pss - a.groups[g].pss };
}

interface Phase {
  handler: 'vnode' | 'runc';
  pods: number;
  startSeconds: number;
  removeSeconds: number;
  before: Snapshot;
  after: Snapshot;
  afterRemove: Snapshot;
  failures: string[];
}

async function phase(ctd: ContainerdInstance, loc: ManagerLocation, env: CriEnv, n: number, sandboxOnly: boolean, settleMs: number, others: Map<string, Set<number>>): Promise<Phase> {
  const handler = env.handler as 'vnode' | 'runc';
  await sleep(settleMs);
  const before = await snapshot(ctd, loc, others);
  const failures: string[] = [];
  const pods: string[] = [];
  const t0 = Date.now();
  for (let i = 0; i < n; i++) {
    try {
      pods.push((await startPod(env, `bench-mem-${handler}-${i}`, { sandboxOnly })).podId);
    } catch (e) {
      failures.push((e as Error).message.split('\n')[0] ?? '');
      progress(`${handler} pod ${i}: FAILED: ${failures[failures.length - 1]}`);
    }
    if ((i + 1) % 10 === 0) progress(`${handler}: ${i + 1}/${n} pods running`);
  }
  const startSeconds = (Date.now() - t0) / 1000;
  await sleep(settleMs);
  const after = await snapshot(ctd, loc, others);
  progress(`${handler}: measured ${pods.length} pods (${handler === 'vnode' ? `${after.vnodes} vNodes, ` : ''}MemAvailable ${((before.mem['MemAvailable']! - after.mem['MemAvailable']!) / 1024).toFixed(1)} MiB lower); removing them`);
  const t1 = Date.now();
  for (const id of pods) await removePod(env, id).catch((e: Error) => failures.push(`remove ${id}: ${e.message}`));
  const removeSeconds = (Date.now() - t1) / 1000;
  await sleep(settleMs);
  const afterRemove = await snapshot(ctd, loc, others);
  return { handler, pods: pods.length, startSeconds, removeSeconds, before, after, afterRemove, failures };
}

interface PerUnit {
  /** kB per pod */
  processesRss: number;
  processesPss: number;
  memAvailable: number;
  /** Δ MemAvailable − Δ Σ PSS of the instance's processes: kernel and page-cache side, kB per pod (rough) */
  kernelEstimate: number;
  slab: number;
  /** Δ (Slab + KernelStack + PageTables) / N: kernel memory, global (noisy but less than MemAvailable) */
  kernel: number;
  workloadPss: number;
  /** biggest slab cache growth, bytes per pod */
  slabTop: [string, number][];
}

interface VersionResult {
  containerd: ContainerdVersion;
  containerdVersion: string;
  pods: number;
  sandboxOnly: boolean;
  /** NODE_OPTIONS given to the shims and the manager (experiments). */
  nodeOptions?: string;
  managerIdle: { pid?: number; rssKiB: number; pssKiB: number; afterPodsRssKiB: number; afterPodsPssKiB: number; afterRemoveRssKiB: number; afterRemovePssKiB: number };
  /** vnode create/remove cycles: manager memory after each removal */
  cycles: { cycle: number; rssKiB: number; pssKiB: number; withPodsRssKiB: number }[];
  vnode: { phase: Phase; perVnode: PerUnit };
  runc: { phase: Phase; perPod: PerUnit };
  otherProcesses: Record<string, number>;
}

function perUnit(p: Phase, overhead: Group[]): PerUnit {
  const n = p.pods || 1;
  let rss = 0;
  let pss = 0;
  for (const g of overhead) {
    const d = delta(p.before, p.after, g);
    rss += d.rss;
    pss += d.pss;
  }
  let allPss = 0;
  for (const g of GROUPS) allPss += delta(p.before, p.after, g).pss;
  const avail = p.before.mem['MemAvailable']! - p.after.mem['MemAvailable']!;
  const workload = delta(p.before, p.after, 'pause').pss + delta(p.before, p.after, 'workload').pss;
  return {
    processesRss: rss / n,
    processesPss: pss / n,
    memAvailable: avail / n,
    kernelEstimate: (avail - allPss) / n,
    slab: (p.after.mem['Slab']! - p.before.mem['Slab']!) / n,
    kernel: (['Slab', 'KernelStack', 'PageTables'] as const).reduce((acc, f) => acc + p.after.mem[f]! - p.before.mem[f]!, 0) / n,
    workloadPss: workload / n,
    slabTop: slabGrowth(p.before, p.after, n),
  };
}

async function runVersion(version: ContainerdVersion, n: number, sandboxOnly: boolean, settleMs: number, cycleCount: number, nodeOptions?: string): Promise<VersionResult> {
  progress(`containerd ${version}: starting a private instance${nodeOptions ? ` (NODE_OPTIONS=${nodeOptions} for shims and manager)` : ''}`);
  const ctd = await startContainerd({ version, ...(nodeOptions ? { env: { NODE_OPTIONS: nodeOptions } } : {}) });
  try {
    progress(`containerd ${ctd.fullVersion} (${ctd.id}) ready`);
    const loc = managerLocation(ctd.address);
    const vnodeEnv = criEnv(ctd, 'vnode');
    const runcEnv = criEnv(ctd, 'runc');
    const others = new Map<string, Set<number>>();

    // 1. the manager, started by the anchor pod's shim; idle after a settle time
    const anchor = await startPod(vnodeEnv, 'bench-mem-anchor', { sandboxOnly });
    const mgr = managerPid(loc);
    progress(`anchor pod running; manager pid ${mgr ?? '?'}; letting it idle ${(2 * settleMs) / 1000} s`);
    if (nodeOptions && mgr) {
      let seen = '';
      try {
        seen = readFileSync(`/proc/${mgr}/environ`, 'latin1').split('\0').find((e) => e.startsWith('NODE_OPTIONS=')) ?? '';
      } catch {
        /* gone */
      }
      progress(`manager environment: ${seen || 'no NODE_OPTIONS (the experiment does not apply)'}`);
    }
    await sleep(2 * settleMs);
    const idleReads: ProcMem[] = [];
    for (let i = 0; i < 5 && mgr; i++) {
      const m = procMem(mgr);
      if (m) idleReads.push(m);
      await sleep(200);
    }
    const idleRss = median(idleReads.map((m) => m.rss));
    const idlePss = median(idleReads.map((m) => m.pss));
    progress(`manager idle: VmRSS ${(idleRss / 1024).toFixed(1)} MiB, Pss ${(idlePss / 1024).toFixed(1)} MiB`);

    // 2. N vNodes
    const vp = await phase(ctd, loc, vnodeEnv, n, sandboxOnly, settleMs, others);
    // 2b. more create/remove cycles: does the idle manager keep growing?
    const cycles: { cycle: number; rssKiB: number; pssKiB: number; withPodsRssKiB: number }[] = [
      { cycle: 1, rssKiB: vp.afterRemove.groups['vnode-manager'].rss, pssKiB: vp.afterRemove.groups['vnode-manager'].pss, withPodsRssKiB: vp.after.groups['vnode-manager'].rss },
    ];
    for (let c = 2; c <= cycleCount; c++) {
      const cp = await phase(ctd, loc, vnodeEnv, n, sandboxOnly, settleMs, others);
      cycles.push({ cycle: c, rssKiB: cp.afterRemove.groups['vnode-manager'].rss, pssKiB: cp.afterRemove.groups['vnode-manager'].pss, withPodsRssKiB: cp.after.groups['vnode-manager'].rss });
      progress(`cycle ${c}/${cycleCount}: manager VmRSS ${(cp.afterRemove.groups['vnode-manager'].rss / 1024).toFixed(1)} MiB after removing the pods`);
    }
    // 3. the runc reference, same pods
    const rp = await phase(ctd, loc, runcEnv, n, sandboxOnly, settleMs, others);

    await removePod(vnodeEnv, anchor.podId).catch(() => undefined);
    const mg = (s: Snapshot) => s.groups['vnode-manager'];
    return {
      containerd: version,
      containerdVersion: ctd.fullVersion,
      pods: n,
      sandboxOnly,
      ...(nodeOptions ? { nodeOptions } : {}),
      managerIdle: {
        pid: mgr, rssKiB: idleRss, pssKiB: idlePss,
        afterPodsRssKiB: mg(vp.after).rss, afterPodsPssKiB: mg(vp.after).pss,
        afterRemoveRssKiB: mg(vp.afterRemove).rss, afterRemovePssKiB: mg(vp.afterRemove).pss,
      },
      cycles,
      vnode: { phase: vp, perVnode: perUnit(vp, ['vnode-manager', 'vnode-init', 'vnode-hold']) },
      runc: { phase: rp, perPod: perUnit(rp, ['containerd-shim-runc-v2']) },
      otherProcesses: Object.fromEntries([...others].map(([k, v]) => [k, v.size])),
    };
  } finally {
    progress(`containerd ${version}: stopping and cleaning up`);
    await ctd.stop();
    await removeManagerDirs(ctd.address);
  }
}

const per = (p: Phase, g: Group): GroupMem => {
  const d = delta(p.before, p.after, g);
  return { count: d.count, rss: d.rss / (p.pods || 1), pss: d.pss / (p.pods || 1) };
};
const mib = (kb: number) => (Number.isFinite(kb) ? (kb / 1024).toFixed(2) : '-');
const mib1 = (kb: number) => (Number.isFinite(kb) ? (kb / 1024).toFixed(1) : '-');

function report(machine: MachineInfo, results: VersionResult[]): string {
  let out = 'Memory: vnode manager at idle, host memory per additional vNode vs runc per pod\n';
  out += `${machine.date}  ${machine.hostname}  kernel ${machine.kernel}  ${machine.cpus} × ${machine.cpuModel}  ${machine.memTotalMiB} MiB  node ${machine.node}  runc ${machine.runc}\n`;
  for (const r of results) {
    const m = r.managerIdle;
    out += `\ncontainerd ${r.containerdVersion}: ${r.pods} pods per handler, ${r.sandboxOnly ? 'pause-only sandboxes' : 'sandbox + busybox sleep container'}, one namespace (vNode) each\n`;
    out += r.nodeOptions ? `EXPERIMENT: NODE_OPTIONS=${r.nodeOptions} for the shims and the manager\n\n` : '\n';
    out += table(
      ['vnode-manager (MiB)', 'VmRSS', 'Pss', 'budget'],
      [
        ['idle after start (1 vNode)', mib1(m.rssKiB), mib1(m.pssKiB), '≤ 80 RSS'],
        [`with ${r.vnode.phase.after.vnodes} vNodes`, mib1(m.afterPodsRssKiB), mib1(m.afterPodsPssKiB), ''],
        ['after removing them', mib1(m.afterRemoveRssKiB), mib1(m.afterRemovePssKiB), ''],
      ],
    );
    if (r.cycles.length > 1) {
      out += `\nmanager across ${r.cycles.length} cycles of ${r.pods} vnode pods created and removed (MiB)\n\n`;
      out += table(['cycle', 'VmRSS with pods', 'VmRSS after removal', 'Pss after removal'], r.cycles.map((c) => [c.cycle, mib1(c.withPodsRssKiB), mib1(c.rssKiB), mib1(c.pssKiB)]));
    }
    out += '\nprocesses of the instance, before → with the pods (count, Σ RSS MiB, Σ PSS MiB)\n\n';
    const rows: (string | number)[][] = [];
    for (const [label, p] of [['vnode', r.vnode.phase], ['runc', r.runc.phase]] as const) {
      for (const g of GROUPS) {
        const b = p.before.groups[g];
        const a = p.after.groups[g];
        if (b.count === 0 && a.count === 0) continue;
        rows.push([`${label}: ${g}`, `${b.count} → ${a.count}`, `${mib1(b.rss)} → ${mib1(a.rss)}`, `${mib1(b.pss)} → ${mib1(a.pss)}`]);
      }
    }
    out += table(['group', 'count', 'Σ RSS', 'Σ PSS'], rows);
    out += '\nper additional vNode (vnode) / per additional pod (runc), MiB\n\n';
    const v = r.vnode.perVnode;
    const c = r.runc.perPod;
    out += table(
      ['', 'vnode / vNode', 'runc / pod', 'what'],
      [
        ['runtime processes, RSS', mib(v.processesRss), mib(c.processesRss), 'vnode: Δ Σ vnode-init + Δ manager (+ holder); runc: Δ Σ shims'],
        ['runtime processes, PSS', mib(v.processesPss), mib(c.processesPss), 'same, proportional share of shared pages'],
        ['  vnode-init, RSS / PSS', `${mib(per(r.vnode.phase, 'vnode-init').rss)} / ${mib(per(r.vnode.phase, 'vnode-init').pss)}`, '', 'Σ over the new vNodes / N'],
        ['  manager Δ, RSS / PSS', `${mib(per(r.vnode.phase, 'vnode-manager').rss)} / ${mib(per(r.vnode.phase, 'vnode-manager').pss)}`, '', 'V8 heap moves with GC: ± a few MiB / N'],
        ['pod processes, PSS', mib(v.workloadPss), mib(c.workloadPss), 'pause (+ sleep): the same workload under both'],
        ['Δ MemAvailable', mib(v.memAvailable), mib(c.memAvailable), 'everything incl. pods and kernel; noisy'],
        ['  − Δ Σ PSS (kernel side)', mib(v.kernelEstimate), mib(c.kernelEstimate), 'namespaces, mounts, cgroups, page tables…; rough'],
        ['Δ Slab', mib(v.slab), mib(c.slab), '/proc/meminfo'],
        ['Δ Slab + KernelStack + PageTables', mib(v.kernel), mib(c.kernel), 'kernel memory (global counters, less noisy)'],
      ],
    );
    out += `\nslab caches that grew most, KiB per vNode (vnode) / per pod (runc)\n`;
    out += `  vnode: ${v.slabTop.map(([k, b]) => `${k} ${(b / 1024).toFixed(0)}`).join(', ')}\n`;
    out += `  runc:  ${c.slabTop.map(([k, b]) => `${k} ${(b / 1024).toFixed(0)}`).join(', ')}\n`;
    out += `\nbudget: each additional vNode ≤ 2 MiB of host memory → runtime processes ${mib(v.processesPss)} MiB PSS / ${mib(v.processesRss)} MiB RSS; `;
    out += `+ kernel (Slab + KernelStack + PageTables) ${mib(v.processesPss + v.kernel)} MiB (runc per pod: ${mib(c.processesPss + c.kernel)} MiB); `;
    out += `Δ MemAvailable − pod processes ${mib(v.memAvailable - v.workloadPss)} MiB (runc: ${mib(c.memAvailable - c.workloadPss)} MiB)\n`;
    out += `timing: ${r.vnode.phase.pods} vnode pods started in ${r.vnode.phase.startSeconds.toFixed(1)} s, removed in ${r.vnode.phase.removeSeconds.toFixed(1)} s; `;
    out += `runc ${r.runc.phase.startSeconds.toFixed(1)} s / ${r.runc.phase.removeSeconds.toFixed(1)} s\n`;
    const fails = [...r.vnode.phase.failures, ...r.runc.phase.failures];
    for (const f of fails) out += `failure: ${f}\n`;
    if (Object.keys(r.otherProcesses).length) out += `other processes seen: ${Object.entries(r.otherProcesses).map(([k, v]) => `${k} ×${v}`).join(', ')}\n`;
  }
  return out;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { values: ['vnodes', 'containerd', 'settle-ms', 'json-file', 'cycles', 'manager-node-options'], booleans: ['json', 'sandbox-only'] }, USAGE);
  const n = intFlag(flags, 'vnodes', 50, 1);
  const settleMs = intFlag(flags, 'settle-ms', 5_000, 0);
  const versions = containerdVersions(flags);
  const machine = machineInfo();
  const results: VersionResult[] = [];
  const cycleCount = intFlag(flags, 'cycles', 1, 1);
  const nodeOptions = flags.values.get('manager-node-options');
  for (const v of versions) results.push(await runVersion(v, n, flags.bools.has('sandbox-only'), settleMs, cycleCount, nodeOptions));
  const rounded = JSON.parse(JSON.stringify(results, (k, val: unknown) => (typeof val === 'number' ? round(val, 1) : k === 'slab' && typeof val === 'object' ? undefined : val))) as unknown;
  const json = JSON.stringify({ benchmark: 'memory', units: 'KiB', machine, results: rounded }, null, 2) + '\n';
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
    process.stderr.write(`memory: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
