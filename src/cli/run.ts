// `vnode run POD.yaml`: runs a Kubernetes Pod manifest on this machine through CRI, the
// calls kubelet makes (RunPodSandbox, CreateContainer, StartContainer per container),
// streams the containers' logs, waits for them to exit and removes the pod again.
// Exit code: the containers' (the first non-zero one in manifest order, else 0);
// 130 after Ctrl-C/SIGTERM, 124 after --timeout, 2 for a bad manifest or flags.
import { mkdirSync, readFileSync } from 'node:fs';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CriError, type CriClient, type ContainerStatus, type PodSandboxConfig } from '../k8s/cri/index.js';
import { mount } from '../sys/index.js';
import { connectCri, selectContainerd, type SelectedContainerd } from './containerd-select.js';
import { CliError, ExitCode, UsageError } from './errors.js';
import { attachStdin, type Attached } from './attach.js';
import { ensureImages } from './images.js';
import { LogFollower } from './logs.js';
import { removePodFiles, removeSandbox, stopContainers } from './pod-cleanup.js';
import { checkNoHostPorts, parsePodManifest, type ContainerSpec, type PodManifest } from './manifest.js';
import { parseDuration, progressTo, type Progress } from './output.js';
import { cliLog } from './log.js';
import type { Logger } from '../log/index.js';
import { containerConfig, emptyDirPath, podLogDirectory, podSandboxConfig, runtimeHandler, type TranslateOptions } from './translate.js';
import { objectVolumePath, podVolumeContents } from './volume-files.js';
import { writeObjectVolume } from './volume-writer.js';

export const RUN_USAGE = `Usage: vnode run POD.yaml [flags]

Runs a Kubernetes Pod manifest on this machine through CRI (as kubelet would), with the
runtime handler of spec.runtimeClassName or "vnode"; streams the logs; removes the pod
when its containers have exited or on Ctrl-C. Exits with the containers' exit code.

Flags:
      --containerd ADDRESS   containerd's socket (default: $CONTAINERD_ADDRESS, else
                             /run/containerd/containerd.sock if it has a vnode handler,
                             else vnode's own containerd, started on first use)
      --handler NAME         runtime handler (overrides spec.runtimeClassName)
      --timeout DURATION     stop the pod after this long (e.g. 30s, 5m) and exit 124
  -d, --detach               start the pod, print its sandbox ID and return
                             (remove it with: vnode delete NAME -n NAMESPACE)
      --cgroup-parent PATH   cgroupfs parent of the pod's cgroup (default /vnode)
  -q, --quiet                no progress lines on stderr
`;

const DEFAULT_CGROUP_PARENT = '/vnode';
const DEFAULT_PODS_DIR = '/var/lib/kubelet/pods';
const DEFAULT_LOG_ROOT = '/var/log/pods';

export interface RunFlags {
  file: string;
  containerd?: string;
  handler?: string;
  timeoutMs?: number;
  detach: boolean;
  /** undefined: /vnode (vnode's own containerd: its own parent, see containerd-local.ts). */
  cgroupParent?: string;
  quiet: boolean;
}

export function parseRunArgs(argv: string[]): RunFlags {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        containerd: { type: 'string' },
        handler: { type: 'string' },
        timeout: { type: 'string' },
        detach: { type: 'boolean', short: 'd' },
        'cgroup-parent': { type: 'string' },
        quiet: { type: 'boolean', short: 'q' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'vnode run: missing POD.yaml' : `vnode run: one manifest only (got ${positionals.join(' ')})`);
  let timeoutMs: number | undefined;
  if (v.timeout !== undefined) {
    try { timeoutMs = parseDuration(v.timeout, '--timeout'); } catch (err) { throw new UsageError((err as Error).message); }
  }
  return {
    file: positionals[0]!,
    ...(v.containerd ? { containerd: v.containerd } : {}),
    ...(v.handler ? { handler: v.handler } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    detach: v.detach ?? false,
    ...(v['cgroup-parent'] ? { cgroupParent: v['cgroup-parent'] } : {}),
    quiet: v.quiet ?? false,
  };
}

/** Reads and checks the manifest: everything that can be refused is refused here, before anything exists. */
export function loadManifest(file: string): PodManifest {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const pod = parsePodManifest(text);
  checkNoHostPorts(pod);
  // a missing ConfigMap/Secret or key is refused here, before anything exists
  podVolumeContents(pod, Math.floor(Date.now() / 1000));
  return pod;
}

export async function runCommand(argv: string[]): Promise<number> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(RUN_USAGE);
    return 0;
  }
  const flags = parseRunArgs(argv);
  const pod = loadManifest(flags.file);
  const progress = progressTo(process.stderr, flags.quiet);
  for (const f of pod.ignored) progress(`warning: ${f} has no effect in vnode run`);
  if (pod.restartPolicy === 'Always' && !flags.detach) progress('warning: spec.restartPolicy Always: vnode run does not restart containers; it reports their exit');
  const withStdin = [...pod.initContainers, ...pod.containers].filter((c) => c.stdin);
  if (!flags.detach && withStdin.length > 0 && !interactiveContainer(pod, flags)) {
    progress(`warning: stdin is attached only when exactly one container (not an init container) has stdin: true; not attaching ${withStdin.map((c) => c.name).join(', ')}`);
  }

  const runner = new PodRunner(pod, flags, progress);
  return runner.run();
}

/** The one container whose stdin we attach (kubectl run -i): the only regular container with stdin: true. */
export function interactiveContainer(pod: PodManifest, flags: Pick<RunFlags, 'detach'>): ContainerSpec | undefined {
  if (flags.detach || pod.initContainers.some((c) => c.stdin)) return undefined;
  const withStdin = pod.containers.filter((c) => c.stdin);
  return withStdin.length === 1 ? withStdin[0] : undefined;
}

type Outcome = { kind: 'exited'; code: number } | { kind: 'signal' } | { kind: 'timeout' };

class PodRunner {
  private cri: CriClient | undefined;
  private sandboxId: string | undefined;
  private podDirCreated = false;
  /** RunPodSandbox was called: a failed one can leave a NOTREADY sandbox behind. */
  private sandboxAttempted = false;
  private readonly podDir: string;
  private readonly logRoot: string;
  private opts: TranslateOptions;
  private sandboxConfig: PodSandboxConfig | undefined;
  private stopRequested: 'signal' | 'timeout' | undefined;
  private wake: (() => void) | undefined;
  private readonly followers: LogFollower[] = [];
  /** Containers started and not seen exited. */
  private readonly running = new Set<string>();
  /** The container our stdin is attached to (see attach.ts). */
  private attached: Attached | undefined;
  /** Resolves when a second Ctrl-C asks not to wait for the grace period. */
  private force: (() => void) | undefined;
  /** Diagnostics: "vnode run: …", with the pod named where the message does not. */
  private readonly log: Logger;

  constructor(
    private readonly pod: PodManifest,
    private readonly flags: RunFlags,
    private readonly progress: Progress,
  ) {
    this.log = cliLog({ component: 'vnode run', pod: `${pod.namespace}/${pod.name}` });
    this.podDir = join(process.env.VNODE_PODS_DIR || DEFAULT_PODS_DIR, pod.uid);
    this.logRoot = process.env.VNODE_POD_LOG_DIR || DEFAULT_LOG_ROOT;
    this.opts = { podDir: this.podDir, logRoot: this.logRoot, cgroupParent: flags.cgroupParent ?? DEFAULT_CGROUP_PARENT, memoryCapacity: totalmem() };
  }

  async run(): Promise<number> {
    const onSignal = (sig: NodeJS.Signals) => {
      if (this.stopRequested === 'signal') {
        cliLog().warn(`${sig} again: killing pod ${this.pod.namespace}/${this.pod.name} without waiting`);
        this.force?.();
        return;
      }
      this.stopRequested = 'signal';
      cliLog().info(`${sig}: stopping pod ${this.pod.namespace}/${this.pod.name}…`);
      this.wake?.();
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    let timer: NodeJS.Timeout | undefined;
    let keep = false;
    try {
      const sel = await selectContainerd(this.flags.containerd, this.progress);
      if (this.stopRequested) return ExitCode.interrupted;
      if (sel.local && this.flags.cgroupParent === undefined) this.opts = { ...this.opts, cgroupParent: sel.local.paths.cgroupParent };
      this.cri = await connectCri(sel);
      await ensureImages(this.cri, [...this.pod.initContainers, ...this.pod.containers].map((c) => c.image), sel, this.progress);
      if (this.stopRequested) return ExitCode.interrupted;
      if (this.flags.timeoutMs !== undefined) {
        timer = setTimeout(() => { this.stopRequested ??= 'timeout'; this.wake?.(); }, this.flags.timeoutMs);
      }
      const outcome = await this.start(sel);
      if (outcome === 'detached') {
        keep = true;
        process.stdout.write(`${this.sandboxId}\n`);
        return ExitCode.ok;
      }
      if (outcome.kind === 'signal') return ExitCode.interrupted;
      if (outcome.kind === 'timeout') {
        this.log.warn(`pod ${this.pod.namespace}/${this.pod.name} still running after --timeout ${this.flags.timeoutMs! / 1000}s: stopped`);
        return ExitCode.timeout;
      }
      return outcome.code;
    } catch (err) {
      if (this.stopRequested === 'signal') return ExitCode.interrupted;
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      if (!keep) await this.cleanup();
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      this.cri?.close();
    }
  }

  /** Sandbox, init containers one after the other, then the containers; waits for them unless detached. */
  private async start(sel: SelectedContainerd): Promise<Outcome | 'detached'> {
    const cri = this.cri!;
    this.preparePodDir();
    const sandbox = podSandboxConfig(this.pod, this.opts);
    this.sandboxConfig = sandbox;
    const handler = runtimeHandler(this.pod, this.flags.handler);
    this.progress(`creating pod ${this.pod.namespace}/${this.pod.name} (runtime handler ${handler}, containerd ${sel.address})…`);
    try {
      this.sandboxAttempted = true;
      this.sandboxId = await cri.runPodSandbox(sandbox, handler);
    } catch (err) {
      if (err instanceof CriError && /handler|runtime/i.test(err.details) && /not found|no runtime|unknown/i.test(err.details)) {
        throw new CliError(`containerd at ${sel.address} has no runtime handler "${handler}": ${err.details}`);
      }
      throw err;
    }
    if (this.stopRequested) return { kind: this.stopRequested };

    const prefix = this.pod.initContainers.length + this.pod.containers.length > 1;
    for (const c of this.pod.initContainers) {
      // init containers finish before the others start, also with --detach
      const id = await this.startContainer(c, prefix);
      const r = await this.waitAll([{ id, name: c.name }]);
      if (r.kind !== 'exited') return r;
      if (r.code !== 0) {
        this.log.warn(`init container ${c.name} exited with ${r.code}`);
        return r;
      }
    }
    const started: { id: string; name: string }[] = [];
    for (const c of this.pod.containers) {
      if (this.stopRequested) return { kind: this.stopRequested };
      started.push({ id: await this.startContainer(c, prefix), name: c.name });
    }
    if (this.flags.detach) return 'detached';
    return this.waitAll(started);
  }

  private async startContainer(c: ContainerSpec, prefix: boolean): Promise<string> {
    const cri = this.cri!;
    const id = await cri.createContainer(this.sandboxId!, containerConfig(this.pod, c, this.opts), this.sandboxConfig!);
    const follower = new LogFollower(join(podLogDirectory(this.pod, this.logRoot), c.name, '0.log'), prefix ? `[${c.name}] ` : '', {
      stdout: (s) => process.stdout.write(s),
      stderr: (s) => process.stderr.write(s),
    });
    await cri.startContainer(id);
    this.running.add(id);
    if (c === interactiveContainer(this.pod, this.flags)) {
      this.attached = await attachStdin(cri, id, c.tty);
      if (this.attached.output) return id; // the terminal's output comes through the stream
    }
    this.followers.push(follower);
    return id;
  }

  /** Follows logs until every container has exited (or a stop is requested). */
  private async waitAll(containers: { id: string; name: string }[]): Promise<Outcome> {
    const cri = this.cri!;
    const done = new Map<string, ContainerStatus>();
    let lastStatus = 0;
    while (done.size < containers.length) {
      if (this.stopRequested) {
        for (const f of this.followers) f.flush();
        return { kind: this.stopRequested };
      }
      for (const f of this.followers) f.poll();
      if (Date.now() - lastStatus >= 250) {
        lastStatus = Date.now();
        for (const c of containers) {
          if (done.has(c.id)) continue;
          const st = (await cri.containerStatus(c.id)).status!;
          if (st.state === 'CONTAINER_EXITED') {
            done.set(c.id, st);
            this.running.delete(c.id);
          }
        }
      }
      if (done.size < containers.length) {
        await new Promise<void>((r) => {
          const t = setTimeout(r, 100);
          this.wake = () => { clearTimeout(t); r(); };
        });
        this.wake = undefined;
      }
    }
    // containerd writes the last lines of a container just before it reports the exit
    for (const f of this.followers) f.flush();
    let code = 0;
    for (const c of containers) {
      const st = done.get(c.id)!;
      if (st.reason && st.reason !== 'Completed' && st.reason !== 'Error') {
        this.log.warn(`container ${c.name}: ${st.reason}${st.message ? ` (${st.message})` : ''}, exit code ${st.exit_code}`);
      }
      if (code === 0 && st.exit_code !== 0) code = st.exit_code;
    }
    return { kind: 'exited', code };
  }

  /** As kubelet: SIGTERM, SIGKILL after terminationGracePeriodSeconds (a second Ctrl-C skips the wait); then the last logs. */
  private async stopRunning(cri: CriClient): Promise<void> {
    const grace = this.pod.terminationGracePeriodSeconds;
    this.progress(`stopping ${this.running.size} container(s) (grace period ${grace}s; Ctrl-C again to kill now)…`);
    const forced = new Promise<void>((r) => { this.force = r; });
    await stopContainers(cri, [...this.running], grace, forced);
    this.force = undefined;
    this.running.clear();
    for (const f of this.followers) f.flush();
  }

  private preparePodDir(): void {
    const empties = this.pod.volumes.filter((v) => v.emptyDir);
    mkdirSync(this.podDir, { recursive: true, mode: 0o750 });
    this.podDirCreated = true;
    for (const v of empties) {
      const dir = emptyDirPath(this.podDir, v.name);
      mkdirSync(dir, { recursive: true, mode: 0o777 });
      if (v.emptyDir!.medium === 'Memory') mount('tmpfs', dir, 'tmpfs', 0, 'mode=0777');
    }
    const now = new Date();
    for (const content of podVolumeContents(this.pod, Math.floor(now.getTime() / 1000))) {
      writeObjectVolume(objectVolumePath(this.podDir, content.kind, content.volume), content, now);
    }
    for (const c of [...this.pod.initContainers, ...this.pod.containers]) {
      for (const m of c.volumeMounts) {
        const v = this.pod.volumes.find((vol) => vol.name === m.name)!;
        if (v.emptyDir && m.subPath) mkdirSync(join(emptyDirPath(this.podDir, v.name), m.subPath), { recursive: true, mode: 0o777 });
      }
    }
  }

  /** StopPodSandbox + RemovePodSandbox, then what kubelet would remove: pod dir, logs, pod cgroup. */
  private async cleanup(): Promise<void> {
    this.attached?.detach();
    const cri = this.cri;
    if (cri && this.sandboxId && this.running.size > 0) await this.stopRunning(cri);
    if (cri && this.sandboxId) {
      this.progress(`removing pod ${this.pod.namespace}/${this.pod.name}…`);
      await removeSandbox(cri, this.sandboxId);
    } else if (cri && this.sandboxAttempted) {
      // RunPodSandbox failed: what containerd kept of it is found by the pod's uid, as kubelet's GC would
      try {
        for (const p of await cri.listPodSandbox({ label_selector: { 'io.kubernetes.pod.uid': this.pod.uid } })) await removeSandbox(cri, p.id);
      } catch (err) {
        this.log.warn({ err }, `looking for what is left of pod ${this.pod.namespace}/${this.pod.name}: ${(err as Error).message}`);
      }
    }
    removePodFiles({
      ...(this.podDirCreated ? { podDir: this.podDir } : {}),
      ...(this.sandboxAttempted ? { logDir: podLogDirectory(this.pod, this.logRoot), cgroupParent: this.opts.cgroupParent, uid: this.pod.uid } : {}),
    });
  }
}
