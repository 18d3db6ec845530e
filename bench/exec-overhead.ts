// Start-up cost of the processes a pod start execs, measured in isolation (no containerd):
// the Node.js shim binary (containerd execs it per sandbox, and on 1.7 per container) against
// containerd's Go runc shim, and the `nsenter --pid … unshare --mount --mount-proc … runc`
// chain the vnode manager wrapped every runc call in until session 3, and the
// vnode-runtime-exec helper that replaced it, against plain runc.
//
//   node --import tsx bench/exec-overhead.ts [--iterations N] [--json]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { repoBinDir, repoRoot } from '../test/support/paths.js';
import { fmtMs, intFlag, machineInfo, nowMs, parseFlags, progress, round, sleep, summarize, table, type Summary } from './lib.js';

const USAGE = `usage: node --import tsx bench/exec-overhead.ts [--iterations N] [--json]
  --iterations N   runs per command (default 20, after 2 discarded)
  --json           results as JSON on stdout
`;

interface Row {
  name: string;
  argv: string[];
  what: string;
}

function timeRun(argv: string[]): number {
  const t0 = nowMs();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  const ms = nowMs() - t0;
  if (r.status !== 0) throw new Error(`${argv.join(' ')}: exit ${r.status}: ${r.stderr?.toString().trim()}`);
  return ms;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { values: ['iterations'], booleans: ['json'] }, USAGE);
  const n = intFlag(flags, 'iterations', 20, 1);
  const runc = '/usr/sbin/runc';
  const runcShim = [join(repoRoot, '.cache/containerd/2/usr/bin/containerd-shim-runc-v2'), join(repoRoot, '.cache/containerd/1.7/usr/bin/containerd-shim-runc-v2'), '/usr/bin/containerd-shim-runc-v2'].find((p) => existsSync(p));

  // A process in its own PID namespace, standing in for a vNode's init.
  const holder = spawn('unshare', ['--pid', '--fork', '--kill-child', 'sleep', '600'], { stdio: 'ignore' });
  await sleep(300);
  const kids = spawnSync('pgrep', ['-P', String(holder.pid)], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  const target = kids[0] ?? String(holder.pid);

  const rows: Row[] = [
    { name: 'node -e 0', argv: [process.execPath, '-e', '0'], what: 'bare Node.js start-up' },
    { name: 'containerd-shim-vnode-v2 -v', argv: [join(repoBinDir, 'containerd-shim-vnode-v2'), '-v'], what: 'the shim launcher with a flag: Node.js + its bundle (with the C front, start alone skips Node.js)' },
    ...(runcShim ? [{ name: 'containerd-shim-runc-v2 -v', argv: [runcShim, '-v'], what: "containerd's Go shim" }] : []),
    { name: 'runc --version', argv: [runc, '--version'], what: 'plain runc exec' },
    { name: 'nsenter --pid -- runc --version', argv: ['nsenter', '--target', target, '--pid', '--', runc, '--version'], what: 'joining the vNode PID namespace' },
    {
      name: 'nsenter --pid -- unshare --mount --mount-proc -- runc --version',
      argv: ['nsenter', '--target', target, '--pid', '--', 'unshare', '--mount', '--mount-proc', '--propagation', 'private', runc, '--version'],
      what: 'the wrapper the manager used around every runc call until session 3',
    },
    {
      name: 'vnode-runtime-exec --pid-ns-of -- runc --version',
      argv: [join(repoRoot, 'dist/vnode-runtime-exec'), '--pid-ns-of', target, '--', runc, '--version'],
      what: 'what replaced it: the same namespaces in one static helper',
    },
    {
      name: 'vnode-runtime-exec --seccomp --pid-ns-of -- runc --version',
      argv: [join(repoRoot, 'dist/vnode-runtime-exec'), '--seccomp', '--pid-ns-of', target, '--', runc, '--version'],
      what: 'the same under vnode\'s seccomp filter (create/exec; without the listener handoff)',
    },
  ];
  const results: { name: string; what: string; ms: Summary }[] = [];
  try {
    // interleaved: one run of every command per iteration, so that load changes hit all alike
    const xs: number[][] = rows.map(() => []);
    for (let i = 0; i < n + 2; i++) {
      rows.forEach((r, k) => {
        const ms = timeRun(r.argv);
        if (i >= 2) xs[k]!.push(ms);
      });
      if ((i + 1) % 10 === 0) progress(`${i + 1}/${n + 2} iterations`);
    }
    rows.forEach((r, k) => results.push({ name: r.name, what: r.what, ms: summarize(xs[k]!) }));
    for (const r of results) progress(`${r.name}: p50 ${fmtMs(r.ms.p50)} ms`);
  } finally {
    holder.kill('SIGKILL');
  }
  const machine = machineInfo();
  if (flags.bools.has('json')) {
    process.stdout.write(JSON.stringify({ benchmark: 'exec-overhead', machine, results: JSON.parse(JSON.stringify(results, (_k, v: unknown) => (typeof v === 'number' ? round(v, 2) : v))) as unknown }, null, 2) + '\n');
    return;
  }
  const f = (x: number) => x.toFixed(1);
  process.stdout.write(`Exec start-up costs (${n} runs each, ms) — ${machine.date}  kernel ${machine.kernel}  node ${machine.node}  runc ${machine.runc}\n\n`);
  process.stdout.write(table(['command', 'p50', 'p90', 'mean', 'min', 'what'], results.map((r) => [r.name, f(r.ms.p50), f(r.ms.p90), f(r.ms.mean), f(r.ms.min), r.what])));
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`exec-overhead: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
