// What vnode's seccomp filter costs a running workload: a syscall-heavy loop (getppid,
// stat, open+close) and a CPU-bound loop, run inside a pod by `syscall-probe bench`
// (test/support/native/syscall-probe.c), handler `vnode` vs `runc` on the SAME private
// containerd in the SAME run, interleaved. Two pod settings:
//   Unconfined      kubelet's default: runc runs with no filter at all, vnode with its own;
//   RuntimeDefault  the pod's profile on both, vnode's filter stacked under it.
// Not a test: it reports ratios, it never asserts them.
//
//   node --import tsx bench/syscall-overhead.ts [--rounds N] [--containerd 2|1.7] [--json]
import { startContainerd, type ContainerdInstance } from '../test/support/containerd.js';
import { criEnv, TestPod, type CriEnv } from '../test/support/cri.js';
import { containerdVersions, fmtRatio, intFlag, machineInfo, median, parseFlags, progress, round, table } from './lib.js';

const USAGE = `usage: node --import tsx bench/syscall-overhead.ts [--rounds N] [--containerd 2|1.7] [--json]
  --rounds N       measured rounds per mode and setting (default 7, after 1 discarded)
  --containerd V   containerd version (default 2)
  --json           results as JSON on stdout
`;

/** mode → iterations per run (each run takes roughly a quarter to half a second). */
const MODES: Record<string, number> = { getppid: 2_000_000, stat: 300_000, openclose: 200_000, cpu: 300 };
const SETTINGS = ['Unconfined', 'RuntimeDefault'] as const;
type Handler = 'runc' | 'vnode';

async function nsPerOp(env: CriEnv, cid: string, mode: string): Promise<number> {
  const r = await env.cri.execSync(cid, ['syscall-probe', 'bench', mode, String(MODES[mode])], 60);
  const m = /ns_per_op=([\d.]+)/.exec(r.stdout.toString());
  if (r.exit_code !== 0 || !m) throw new Error(`syscall-probe bench ${mode}: exit ${r.exit_code}: ${r.stderr.toString()}`);
  return Number(m[1]);
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { values: ['rounds', 'containerd'], booleans: ['json'] }, USAGE);
  const rounds = intFlag(flags, 'rounds', 7, 1);
  const version = containerdVersions(flags)[0]!;
  progress(`starting a private containerd ${version}…`);
  const ctd: ContainerdInstance = await startContainerd({ version });
  const pods: TestPod[] = [];
  const results: { setting: string; mode: string; runcNs: number; vnodeNs: number; ratio: number }[] = [];
  try {
    for (const setting of SETTINGS) {
      const seccomp = { profile_type: setting };
      const cids = {} as Record<Handler, { env: CriEnv; cid: string }>;
      for (const handler of ['runc', 'vnode'] as const) {
        const env = criEnv(ctd, handler);
        const pod = await TestPod.run(env, { namespace: `bench-${setting.toLowerCase()}`, seccomp });
        pods.push(pod);
        const cid = await pod.runContainer({ name: 'loop', command: ['sleep', '3600'], seccomp });
        await pod.waitForState(cid, 'CONTAINER_RUNNING');
        cids[handler] = { env, cid };
      }
      for (const mode of Object.keys(MODES)) {
        const xs: Record<Handler, number[]> = { runc: [], vnode: [] };
        for (let i = 0; i < rounds + 1; i++) {
          // alternate which goes first, so drift hits both alike
          const order: Handler[] = i % 2 ? ['vnode', 'runc'] : ['runc', 'vnode'];
          for (const h of order) {
            const ns = await nsPerOp(cids[h].env, cids[h].cid, mode);
            if (i > 0) xs[h].push(ns);
          }
        }
        const runcNs = median(xs.runc);
        const vnodeNs = median(xs.vnode);
        results.push({ setting, mode, runcNs: round(runcNs, 1), vnodeNs: round(vnodeNs, 1), ratio: round(vnodeNs / runcNs, 3) });
        progress(`${setting} ${mode}: runc ${runcNs.toFixed(1)} ns, vnode ${vnodeNs.toFixed(1)} ns per op`);
      }
    }
  } finally {
    for (const p of pods) await p.remove().catch(() => undefined);
    await ctd.stop();
  }
  if (flags.bools.has('json')) {
    console.log(JSON.stringify({ machine: machineInfo(), containerd: version, rounds, results }, null, 2));
    return;
  }
  console.log(`\nns per operation, median of ${rounds} runs each (containerd ${version}); ratio = vnode / runc\n`);
  console.log(table(['pod seccomp', 'loop', 'runc ns', 'vnode ns', 'ratio'], results.map((r) => [r.setting, r.mode, r.runcNs, r.vnodeNs, fmtRatio(r.ratio)])));
}

await main();
