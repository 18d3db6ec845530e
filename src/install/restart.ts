// Restarting containerd the way the node runs it, and waiting until its CRI reports the
// vnode runtime handler. Running pods survive: containerd's shims (runc's and vnode's
// manager) are separate processes that a containerd restart does not stop.
//
//   --restart-command CMD       run by /bin/sh -c (OpenRC, runit, k0s, ...)
//   a systemd unit runs it      systemctl restart UNIT (from a container: through
//                               nsenter into PID 1's mount namespace; needs hostPID)
//   a plain process             SIGTERM, then the same argv, environment and working
//                               directory again, stdout/stderr appended to the same files
//                               (only from the same mount namespace)
import { execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { CriClient, runtimeHandlerNames } from '../k8s/cri/index.js';
import { InstallError } from './errors.js';
import type { ContainerdProcess, HostRoot } from './node.js';

export type Progress = (line: string) => void;

export type RestartPlan =
  | { kind: 'command'; command: string }
  | { kind: 'systemd'; unit: string; argv: string[] }
  | { kind: 'reexec'; pid: number }
  | { kind: 'none'; why: string };

/** How to restart this containerd (pure given the facts, for tests). */
export function restartPlan(o: { proc?: ContainerdProcess; command?: string; h: HostRoot; systemdRunning: boolean; sameMountNs: boolean }): RestartPlan {
  if (o.command) return { kind: 'command', command: o.command };
  if (!o.proc) return { kind: 'none', why: 'containerd is not running' };
  if (o.proc.unit && o.systemdRunning) {
    const argv = o.h.root === '/' ? ['systemctl', 'restart', o.proc.unit] : ['nsenter', '-t', '1', '-m', '--', 'systemctl', 'restart', o.proc.unit];
    return { kind: 'systemd', unit: o.proc.unit, argv };
  }
  if (o.sameMountNs) return { kind: 'reexec', pid: o.proc.pid };
  throw new InstallError('RESTART', `containerd (pid ${o.proc.pid}) is not run by a systemd unit and runs in another mount namespace: restart it with --restart-command CMD, or run with --no-restart and restart it yourself`);
}

export function describePlan(p: RestartPlan): string {
  switch (p.kind) {
    case 'command': return `sh -c ${JSON.stringify(p.command)}`;
    case 'systemd': return p.argv.join(' ');
    case 'reexec': return `SIGTERM pid ${p.pid} and start it again with the same command line`;
    case 'none': return p.why;
  }
}

export function systemdRunning(h: HostRoot): boolean {
  return existsSync(h.path('/run/systemd/system'));
}

export function sameMountNamespace(pid: number): boolean {
  try { return readlinkSync('/proc/self/ns/mnt') === readlinkSync(`/proc/${pid}/ns/mnt`); } catch { return false; }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

function run(argv: string[], shell = false): Promise<void> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = shell ? ['/bin/sh', '-c', argv[0]!] : argv;
    execFile(file!, args, { timeout: 120_000, encoding: 'utf8' }, (err, _out, stderr) => {
      if (err) reject(new InstallError('RESTART', `${argv.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve();
    });
  });
}

/** SIGTERM, wait, and the same process again (detached, in its old cgroup when possible). Returns the new pid. */
async function reexec(pid: number, progress: Progress): Promise<number> {
  const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const env = Object.fromEntries(readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').filter(Boolean).map((kv) => { const i = kv.indexOf('='); return [kv.slice(0, i), kv.slice(i + 1)]; }));
  const exe = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '');
  const cwd = readlinkSync(`/proc/${pid}/cwd`);
  const outOf = (fd: number) => { try { const t = readlinkSync(`/proc/${pid}/fd/${fd}`); return t.startsWith('/') && statSync(t).isFile() ? t : undefined; } catch { return undefined; } };
  const [out, err] = [outOf(1), outOf(2)];
  const cgroup = (readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.startsWith('0::')) ?? '').slice(3);
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (alive(pid) && Date.now() < deadline) await sleep(50);
  if (alive(pid)) throw new InstallError('RESTART', `containerd (pid ${pid}) did not exit within 30 s of SIGTERM`);
  progress(`containerd pid ${pid} stopped; starting ${exe}`);
  const fds = [out, err].map((f) => (f ? openSync(f, 'a') : 'ignore' as const));
  try {
    const child = spawn(exe, argv.slice(1), { argv0: argv[0], env, cwd, detached: true, stdio: ['ignore', fds[0]!, fds[1]!] });
    child.on('error', () => {});
    child.unref();
    if (child.pid === undefined) throw new InstallError('RESTART', `cannot start ${exe}`);
    if (cgroup) { try { writeFileSync(`/sys/fs/cgroup${cgroup}/cgroup.procs`, String(child.pid)); } catch { /* the cgroup went away with it, or v1 */ } }
    return child.pid;
  } finally {
    for (const f of fds) if (typeof f === 'number') closeSync(f);
  }
}

/** Runs the plan; returns the new containerd pid when it knows it. */
export async function restartContainerd(plan: RestartPlan, progress: Progress): Promise<number | undefined> {
  progress(`restarting containerd: ${describePlan(plan)}`);
  switch (plan.kind) {
    case 'command': await run([plan.command], true); return undefined;
    case 'systemd': await run(plan.argv); return undefined;
    case 'reexec': return reexec(plan.pid, progress);
    case 'none': return undefined;
  }
}

/** Runtime handler names from CRI Status (runtimeHandlerNames in src/k8s/cri). */
export const liveRuntimeHandlers = runtimeHandlerNames;

/** The handlers of the containerd at `address`, or undefined when it does not answer within waitMs. */
export async function handlersAt(address: string, waitMs: number): Promise<string[] | undefined> {
  let cri: CriClient | undefined;
  try {
    cri = await CriClient.connect(address, { waitMs, timeoutMs: 5_000 });
    return await liveRuntimeHandlers(cri);
  } catch {
    return undefined;
  } finally {
    cri?.close();
  }
}

/** Waits until CRI answers and reports (or, with present=false, no longer reports) the handler. */
export async function waitForHandler(address: string, handler: string, present: boolean, timeoutMs: number, progress: Progress): Promise<void> {
  const start = Date.now();
  let nextNote = start + 2_000;
  let last = 'no answer';
  for (;;) {
    const names = await handlersAt(address, 1_000);
    if (names) {
      if (names.includes(handler) === present) return;
      last = `handlers: ${names.join(', ') || 'none'}`;
    }
    const now = Date.now();
    if (now - start > timeoutMs) {
      throw new InstallError('RESTART', `containerd at ${address} did not ${present ? 'report' : 'drop'} runtime handler ${handler} within ${Math.round(timeoutMs / 1000)} s (${last})`);
    }
    if (now >= nextNote) {
      progress(`waiting for containerd to ${present ? 'report' : 'drop'} runtime handler ${handler} (${Math.round((now - start) / 1000)}s, ${last})`);
      nextNote = now + 2_000;
    }
    await sleep(250);
  }
}

/**
 * For `uninstall --force`: stops and removes every pod of the vnode handler through CRI
 * (as kubelet would when it deletes them), so that nothing of them outlives the runtime.
 * Returns how many it removed.
 */
export async function removeVnodePods(address: string, progress: Progress): Promise<number> {
  const cri = await CriClient.connect(address, { waitMs: 2_000, timeoutMs: 130_000 });
  try {
    const pods = (await cri.listPodSandbox()).filter((p) => p.runtime_handler === 'vnode');
    for (const [i, p] of pods.entries()) {
      progress(`removing vNode pod ${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? p.id} (${i + 1}/${pods.length})`);
      await cri.stopPodSandbox(p.id);
      await cri.removePodSandbox(p.id);
    }
    return pods.length;
  } finally {
    cri.close();
  }
}

/** Ready vNode pods (runtime handler vnode) of the containerd at `address`; undefined when it does not answer. */
export async function runningVnodePods(address: string): Promise<{ id: string; name: string; namespace: string }[] | undefined> {
  let cri: CriClient | undefined;
  try {
    cri = await CriClient.connect(address, { waitMs: 2_000, timeoutMs: 5_000 });
    const pods = await cri.listPodSandbox();
    return pods
      .filter((p) => p.runtime_handler === 'vnode' && p.state === 'SANDBOX_READY')
      .map((p) => ({ id: p.id, name: p.metadata?.name ?? '', namespace: p.metadata?.namespace ?? '' }));
  } catch {
    return undefined;
  } finally {
    cri?.close();
  }
}
