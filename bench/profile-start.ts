// Where does a pod start spend its time? Runs a few pod starts per case (runc, vnode with an
// existing vNode, vnode with a new vNode) on a private containerd while strace follows
// containerd and the vnode manager (and everything they start: shims, nsenter, unshare, runc,
// runc init, CNI plugins), then prints per start a timeline of the processes that ran, with
// offsets from the RunPodSandbox call, and the manager's own (in-process) time between them.
//
// strace slows every traced syscall, so absolute numbers are inflated: read the timelines
// for order and relative cost, and take latencies from bench/pod-start.ts.
//
//   node --import tsx bench/profile-start.ts [--containerd 2|1.7] [--pods N] [--keep-trace FILE]
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerdBinDir, startContainerd, type ContainerdVersion } from '../test/support/containerd.js';
import { repoBinDir } from '../test/support/paths.js';
import { criEnv, type CriEnv } from '../test/support/cri.js';
import { containerdVersions, fmtMs, intFlag, managerLocation, managerPid, nowMs, parseFlags, progress, removeManagerDirs, removePod, sleep, startPod, summarize } from './lib.js';

const USAGE = `usage: node --import tsx bench/profile-start.ts [--containerd 2|1.7] [--pods N] [--keep-trace FILE] [--vnode-bin-dir D]
  --containerd V     containerd version (default 2)
  --pods N           starts per case (default 3)
  --keep-trace FILE  copy strace's raw output to FILE
  --vnode-bin-dir D  look for containerd-shim-vnode-v2 in D first (experiments with a wrapped shim)
`;

interface Mark {
  label: string;
  /** epoch ms */
  t0: number;
  t1: number;
  t2: number;
  t3: number;
  t4: number;
}

interface Proc {
  pid: number;
  parent?: number;
  /** epoch ms of execve (first one if several) */
  exec: number;
  argv: string;
  exit?: number;
  /** ms spent in selected syscalls (mount family, unshare, setns), by name */
  sys: Map<string, { n: number; ms: number }>;
}

function short(argv: string[]): string {
  const bin = (argv[0] ?? '?').split('/').pop() ?? '?';
  const rest = argv.slice(1).filter((a) => !a.startsWith('--log') && !/^\/(run|tmp)\/.{40,}/.test(a));
  const out = [bin, ...rest].join(' ');
  return out.length > 110 ? out.slice(0, 107) + '...' : out;
}

/** Parses `strace -f -ttt -T` output into processes (exec, exit, selected syscall times). */
function parseTrace(text: string, managerTids: number[]): { procs: Map<number, Proc>; managerSys: { t: number; name: string; ms: number }[] } {
  const procs = new Map<number, Proc>();
  const managerThreads = new Set<number>(managerTids);
  const managerSys: { t: number; name: string; ms: number }[] = [];
  const pending = new Map<number, { name: string; t: number }>();
  const pendingExec = new Map<number, { t: number; argv: string[] }>();
  const parentOf = new Map<number, number>();
  for (const line of text.split('\n')) {
    const m = /^(\d+)\s+(\d+\.\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const pid = Number(m[1]);
    const t = Number(m[2]) * 1000;
    let rest = m[3]!;
    // clone results: parent → child
    const cl = /^(clone3?|vfork|fork)\(.*\)\s*=\s*(\d+)/.exec(rest) ?? /^<\.\.\. (clone3?|vfork|fork) resumed>.*=\s*(\d+)/.exec(rest);
    if (cl) {
      const child = Number(cl[2]);
      parentOf.set(child, pid);
      if (managerThreads.has(pid) && !procs.has(pid)) {
        // a thread or a child of the manager: threads share the manager's tgid, but strace shows tids;
        // a clone with CLONE_THREAD makes a manager thread.
        if (/CLONE_THREAD/.test(rest)) managerThreads.add(child);
      }
      continue;
    }
    // execve, complete ("... = 0") or split ("<unfinished ...>" … "<... execve resumed>) = 0")
    const ex = /^execve\("([^"]*)", \[(.*?)\]/.exec(rest);
    let done: { t: number; argv: string[] } | undefined;
    if (ex) {
      const argv = [...ex[2]!.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map((x) => x[1]!);
      if (/<unfinished \.\.\.>$/.test(rest)) pendingExec.set(pid, { t, argv });
      else if (/\)\s*=\s*0\b/.test(rest)) done = { t, argv };
      if (!done) continue;
    } else if (/^<\.\.\. execve resumed>/.test(rest)) {
      const pe = pendingExec.get(pid);
      pendingExec.delete(pid);
      if (pe && /\)\s*=\s*0\b/.test(rest)) done = pe;
      else continue;
    }
    if (done) {
      if (!procs.has(pid)) procs.set(pid, { pid, parent: parentOf.get(pid), exec: done.t, argv: short(done.argv), sys: new Map() });
      else procs.get(pid)!.argv += ` → ${short(done.argv)}`;
      continue;
    }
    if (/^\+\+\+ exited with/.test(rest) || /^exit_group\(/.test(rest)) {
      const p = procs.get(pid);
      if (p && p.exit === undefined) p.exit = t;
      continue;
    }
    // syscall timing: "name(args) = r <0.000123>" or unfinished/resumed pairs
    const un = /^(\w+)\(.*<unfinished \.\.\.>$/.exec(rest);
    if (un) {
      pending.set(pid, { name: un[1]!, t });
      continue;
    }
    const res = /^<\.\.\. (\w+) resumed>.*<(\d+\.\d+)>$/.exec(rest);
    let name: string | undefined;
    let ms = 0;
    if (res) {
      name = res[1]!;
      ms = Number(res[2]) * 1000;
      pending.delete(pid);
    } else {
      const full = /^(\w+)\(.*<(\d+\.\d+)>$/.exec(rest);
      if (full) {
        name = full[1]!;
        ms = Number(full[2]) * 1000;
      }
    }
    if (!name) continue;
    rest = '';
    if (managerThreads.has(pid)) managerSys.push({ t, name, ms });
    const p = procs.get(pid);
    if (p) {
      const s = p.sys.get(name) ?? { n: 0, ms: 0 };
      s.n++;
      s.ms += ms;
      p.sys.set(name, s);
    }
  }
  return { procs, managerSys };
}

function timeline(mark: Mark, procs: Map<number, Proc>, managerSys: { t: number; name: string; ms: number }[]): string {
  const rel = (t: number) => (t - mark.t0).toFixed(1).padStart(7);
  let out = `\n== ${mark.label}: total ${(mark.t4 - mark.t0).toFixed(0)} ms — RunPodSandbox ${(mark.t1 - mark.t0).toFixed(0)}, CreateContainer ${(mark.t2 - mark.t1).toFixed(0)}, StartContainer ${(mark.t3 - mark.t2).toFixed(0)}, → RUNNING ${(mark.t4 - mark.t3).toFixed(0)}\n`;
  out += `   offset ms   (dur ms)  process\n`;
  const inWin = [...procs.values()].filter((p) => p.exec >= mark.t0 - 1 && p.exec <= mark.t4 + 1).sort((a, b) => a.exec - b.exec);
  const events: { t: number; line: string }[] = [
    { t: mark.t0, line: '-- RunPodSandbox' },
    { t: mark.t1, line: '-- CreateContainer' },
    { t: mark.t2, line: '-- StartContainer' },
    { t: mark.t3, line: '-- StartContainer returned; ContainerStatus polling' },
    { t: mark.t4, line: '-- RUNNING' },
  ];
  for (const p of inWin) {
    const dur = p.exit !== undefined ? (p.exit - p.exec).toFixed(1) : 'alive';
    const sys = [...p.sys].filter(([n]) => /mount|unshare|setns|open_tree|fsopen|fsmount|fsconfig/.test(n)).map(([n, s]) => `${n}×${s.n} ${s.ms.toFixed(1)}ms`).join(', ');
    events.push({ t: p.exec, line: `${`(${dur})`.padStart(9)}  [${p.pid}] ${p.argv}${sys ? `   {${sys}}` : ''}` });
  }
  const mgr = managerSys.filter((s) => s.t >= mark.t0 && s.t <= mark.t4);
  const byName = new Map<string, { n: number; ms: number }>();
  for (const s of mgr) {
    const x = byName.get(s.name) ?? { n: 0, ms: 0 };
    x.n++;
    x.ms += s.ms;
    byName.set(s.name, x);
  }
  for (const e of events.sort((a, b) => a.t - b.t)) out += `  ${rel(e.t)}  ${e.line}\n`;
  if (byName.size) {
    const top = [...byName].sort((a, b) => b[1].ms - a[1].ms).slice(0, 12);
    out += `   manager-thread syscalls in this window (count, Σ ms): ${top.map(([n, s]) => `${n} ${s.n} / ${s.ms.toFixed(1)}`).join('; ')}\n`;
  }
  return out;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { values: ['containerd', 'pods', 'keep-trace', 'vnode-bin-dir'], booleans: [] }, USAGE);
  const version: ContainerdVersion = containerdVersions(flags)[0]!;
  const n = intFlag(flags, 'pods', 3, 1);
  const vnodeBinDir = flags.values.get('vnode-bin-dir');
  const ctd = await startContainerd({ version, ...(vnodeBinDir ? { vnodeBinDir } : {}) });
  const traceFile = join(tmpdir(), `vnode-bench-strace-${process.pid}.txt`);
  let strace: ReturnType<typeof spawn> | undefined;
  try {
    progress(`containerd ${ctd.fullVersion} ready`);
    const envs: Record<'runc' | 'vnode', CriEnv> = { runc: criEnv(ctd, 'runc'), vnode: criEnv(ctd, 'vnode') };
    const loc = managerLocation(ctd.address);
    const anchor = await startPod(envs.vnode, 'prof-existing');
    const mgr = managerPid(loc);
    if (!mgr) throw new Error('no vnode manager after the anchor pod');
    // one untraced start per case first, so that caches are warm
    for (const [env, ns] of [[envs.runc, 'prof-runc'], [envs.vnode, 'prof-existing'], [envs.vnode, 'prof-warm']] as const) {
      await removePod(env, (await startPod(env, ns)).podId);
    }
    // Untraced: `containerd-shim-vnode-v2 … start` as containerd runs it, against the live
    // manager (it only checks the manager and prints the address), vs the runc shim's
    // `start` of a container that joins an existing sandbox shim is not run by 2.x at all.
    const shimStart: number[] = [];
    const shimBin = join(vnodeBinDir ?? repoBinDir, 'containerd-shim-vnode-v2');
    for (let i = 0; i < 12; i++) {
      const t = nowMs();
      const r = spawnSync(shimBin, ['-namespace', 'k8s.io', '-address', ctd.address, '-publish-binary', join(containerdBinDir(version), 'containerd'), '-id', `bench-${i}`, 'start'], {
        input: '', env: { ...process.env, TTRPC_ADDRESS: ctd.ttrpcAddress, PATH: ctd.pathEnv }, encoding: 'utf8',
      });
      if (i >= 2) shimStart.push(nowMs() - t);
      if (r.status !== 0) throw new Error(`shim start: ${r.stderr}`);
    }
    const ss = summarize(shimStart);
    const shimLine = `untraced \`containerd-shim-vnode-v2 start\` against the running manager (${ss.n} runs): p50 ${fmtMs(ss.p50)} ms, mean ${fmtMs(ss.mean)} ms, min ${fmtMs(ss.min)} ms`;
    progress(shimLine);

    const syscalls = 'execve,exit_group,clone,clone3,fork,vfork,mount,umount2,open_tree,move_mount,mount_setattr,fsopen,fsconfig,fsmount,unshare,setns,pidfd_open,openat,read,write,wait4,waitid,pivot_root,statfs,fstatfs,chdir';
    strace = spawn('strace', ['-f', '-ttt', '-T', '-q', '-s', '200', '-e', `trace=${syscalls}`, '-e', 'signal=none', '-o', traceFile, '-p', String(ctd.pid), '-p', String(mgr)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let straceErr = '';
    strace.stderr!.on('data', (d: Buffer) => (straceErr += d.toString()));
    await sleep(1500);
    if (strace.exitCode !== null) throw new Error(`strace exited: ${straceErr}`);
    progress(`strace attached to containerd ${ctd.pid} and manager ${mgr}`);

    const marks: Mark[] = [];
    for (let i = 0; i < n; i++) {
      for (const c of ['runc', 'vnode-existing', 'vnode-new'] as const) {
        const env = c === 'runc' ? envs.runc : envs.vnode;
        const ns = c === 'runc' ? 'prof-runc' : c === 'vnode-existing' ? 'prof-existing' : `prof-new-${i}`;
        const t0 = Date.now();
        const res = await startPod(env, ns);
        const s = res.steps;
        marks.push({ label: `${c} #${i + 1}`, t0, t1: t0 + s.RunPodSandbox, t2: t0 + s.RunPodSandbox + s.CreateContainer, t3: t0 + s.RunPodSandbox + s.CreateContainer + s.StartContainer, t4: t0 + res.totalMs });
        progress(`${c} #${i + 1}: ${res.totalMs.toFixed(0)} ms (traced)`);
        await sleep(300);
        await removePod(env, res.podId);
        await sleep(300);
      }
    }
    strace.kill('SIGINT');
    await new Promise((r) => strace!.once('exit', r));
    strace = undefined;
    const text = readFileSync(traceFile, 'utf8');
    const keep = flags.values.get('keep-trace');
    if (keep) writeFileSync(keep, text);
    const tids = readdirSync(`/proc/${mgr}/task`).map(Number);
    const { procs, managerSys } = parseTrace(text, tids);
    let out = `Pod start timelines under strace (containerd ${ctd.fullVersion}; manager pid ${mgr}; offsets from RunPodSandbox, ms; inflated by tracing)\n`;
    out += `${shimLine}\n`;
    for (const m of marks) out += timeline(m, procs, managerSys);
    process.stdout.write(out);
    await removePod(envs.vnode, anchor.podId).catch(() => undefined);
  } finally {
    if (strace) strace.kill('SIGKILL');
    rmSync(traceFile, { force: true });
    await ctd.stop();
    await removeManagerDirs(ctd.address);
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`profile-start: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
