// The Task API for every vNode task of one containerd instance, with the semantics of
// containerd's runc shim. Processes are created by the OCI runtime inside the task's
// vNode; their exits come from the vNode init's exit log, so they are known even if
// they happen while this manager is down.
import { spawn } from 'node:child_process';
import { chmodSync, closeSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { anyTypeName, encode, packAny, RUNC_OPTIONS, RUNC_PROCESS_DETAILS, TaskStatus, unpackAny, type CreateTaskRequest, type RuncOptions } from '../proto/index.js';
import type { Any } from '../proto/index.js';
import { Code, TaskError, type TaskApi } from '../shim/index.js';
import type { EventPublisher } from '../shim/events.js';
import { podIdentity } from '../oci/annotations.js';
import { planSpec } from '../oci/planner.js';
import { InvalidSpecError, parseSpec } from '../oci/spec.js';
import { cgroupOf, cgroupPids, metricsOf, oomKills } from '../cgroup/index.js';
import { exitCodeOf, type ExitRecord } from './exit-log.js';
import { IdPoolExhaustedError } from './id-pool.js';
import { OciRuntime, resolveRuntime, RuntimeError, RuntimeNotFoundError } from './oci-runtime.js';
import type { InstancePaths } from './paths.js';
import { ensureHostPath, idmapPodFile, mountRootfs, RootfsError, unmountRootfs } from './rootfs.js';
import { Tombstones } from './tombstones.js';
import { openStdio, StdioError, type ProcessStdio } from './stdio.js';
import { taskKey, TaskStore, type ProcessRecord, type TaskRecord } from './task-store.js';
import { VnodeError, VnodeRegistry, type Vnode } from './vnode.js';
import { isAlive } from './procfs.js';
import { isUnifiedHost, podCgroupOf, taskCgroupOf } from '../cgroup/index.js';
import { viewId, type ProcView } from './proc-view.js';
import { helperPath } from './helpers.js';
import { LISTENER_ID_PREFIX } from './connection-holder.js';
import { hostDeviceNode } from './devices.js';
import { writeFifoLine } from '../sys/fd.js';
import { mountTable } from '../sys/mount.js';
import type { Supervisor } from '../seccomp/index.js';

export interface ServiceOptions {
  paths: InstancePaths;
  events: Pick<EventPublisher, 'publish'>;
  perPod: boolean;
  log: (msg: string) => void;
  /** Host paths whose bind mounts are pod files (ID-mapped in place). */
  podFilePrefixes: string[];
  /** vnodefs: per-pod /proc and /sys files; absent = containers see the kernel's. */
  procView?: ProcView;
  /** Answers the syscalls vnode's seccomp filter notifies; without it they are left to the kernel. */
  supervisor?: Supervisor;
}

const VERSION = '0.1.0';

/** Turns internal failures into Task API errors with a gRPC code, once, here. */
function asTaskError(e: unknown, what: string): TaskError {
  if (e instanceof TaskError) return e;
  const msg = `${what}: ${(e as Error).message}`;
  if (e instanceof InvalidSpecError) return new TaskError(Code.InvalidArgument, msg);
  if (e instanceof IdPoolExhaustedError) return new TaskError(Code.ResourceExhausted, msg);
  if (e instanceof StdioError || e instanceof RootfsError || e instanceof VnodeError || e instanceof RuntimeNotFoundError) return new TaskError(Code.FailedPrecondition, msg);
  if (e instanceof RuntimeError) return new TaskError(Code.Unknown, msg);
  return new TaskError(Code.Internal, msg);
}

interface Live {
  stdio?: ProcessStdio;
  waiters: ((p: ProcessRecord) => void)[];
  /** Set while Start runs: an exit seen meanwhile is reported after TaskStart / TaskExecStarted. */
  starting?: boolean;
  pendingExit?: { code: number; at: Date };
}

export class TaskService implements TaskApi {
  readonly store: TaskStore;
  private readonly tombstones: Tombstones;
  readonly vnodes: VnodeRegistry;
  private readonly live = new Map<string, Live>();
  /** Exits whose PID was not (yet) known to belong to a process: PID -> record. */
  private readonly unclaimed = new Map<string, ExitRecord>();
  private readonly runtimes = new Map<string, OciRuntime>();

  constructor(private readonly o: ServiceOptions) {
    this.store = new TaskStore(o.paths.state);
    this.tombstones = new Tombstones(o.paths.deleted);
    this.vnodes = new VnodeRegistry(o.paths, process.env.VNODE_ID_POOL, (v, r) => this.onExit(v, r));
    for (const d of [o.paths.runtimeRoot, join(o.paths.dir, 'logs'), join(o.paths.dir, 'tty')]) mkdirSync(d, { recursive: true, mode: 0o700 });
    // Root filesystems and pod files live below mounts/: the path to them must be
    // traversable by the vNodes' root users (no listing, just search).
    mkdirSync(o.paths.mounts, { recursive: true });
    for (let d = o.paths.mounts; d !== '/' && d !== '.'; d = dirname(d)) {
      if ((statSync(d).mode & 0o111) !== 0o111) chmodSync(d, statSync(d).mode | 0o111);
    }
  }

  /**
   * Sysctl values the pods wrote through vnodefs live in this process; they are copied
   * into the task records every few seconds so a restarted manager serves them again.
   */
  persistSysctls(): void {
    const pv = this.o.procView;
    if (!pv) return;
    for (const t of this.store.all()) {
      if (!t.view || !pv.has(t.view.id)) continue;
      const now = pv.sysctls(t.view.id);
      if (JSON.stringify(now) === JSON.stringify(t.view.spec.sysctls ?? {})) continue;
      t.view.spec.sysctls = now;
      this.store.save(t);
    }
  }

  /** vnodefs entries of the tasks on disk (to serve them again from the first request after a restart). */
  static viewsOnDisk(stateDir: string): Record<string, import('../vnodefs/index.js').VnodeSpec> {
    const out: Record<string, import('../vnodefs/index.js').VnodeSpec> = {};
    for (const t of new TaskStore(stateDir).load()) {
      if (!t.view) continue;
      // sysctls a vNode wrote live in the task record only from the last save on
      out[t.view.id] = t.view.spec;
    }
    return out;
  }

  /** After a restart: reload tasks and vNodes, then catch up with exits that happened meanwhile. */
  reload(): void {
    this.store.load();
    this.vnodes.reload();
    this.reapDeadVnodes();
  }

  /**
   * A vNode whose init died took every process of its PID namespace with it, and nobody
   * logged their exits: a reboot(2) inside a hostPID pod (the kernel kills the PID
   * namespace's init), an OOM kill or a kill -9 of vnode-init, or a death while the
   * manager was down. Its processes are reported exited with 137 (SIGKILL, as they were).
   */
  reapDeadVnodes(): void {
    for (const v of this.vnodes.list()) {
      if (v.alive()) continue;
      for (const t of this.store.all().filter((t) => t.vnode === v.name)) {
        for (const p of [t.init, ...Object.values(t.execs)]) {
          if (p.status === 'stopped') continue;
          this.o.log(`vNode ${v.name} is gone (its init died): ${t.id}${p.execId ? ` exec ${p.execId}` : ''} exited`);
          this.markExited(t, p, 137, new Date());
        }
      }
    }
  }

  private runtime(binary: string): OciRuntime {
    let r = this.runtimes.get(binary);
    if (!r) {
      r = new OciRuntime({ binary, root: this.o.paths.runtimeRoot, logDir: join(this.o.paths.dir, 'logs'), execHelper: helperPath('vnode-runtime-exec') });
      this.runtimes.set(binary, r);
    }
    return r;
  }

  private liveOf(t: TaskRecord, execId: string): Live {
    const k = `${taskKey(t.namespace, t.id)}#${execId}`;
    let l = this.live.get(k);
    if (!l) {
      l = { waiters: [] };
      this.live.set(k, l);
    }
    return l;
  }

  private task(ns: string, id: string): TaskRecord {
    const t = this.store.get(ns, id) ?? (ns ? undefined : this.store.findById(id));
    if (!t) throw new TaskError(Code.NotFound, `task ${id} not found in namespace "${ns}"`);
    return t;
  }

  private proc(t: TaskRecord, execId: string): ProcessRecord {
    if (!execId) return t.init;
    const p = t.execs[execId];
    if (!p) throw new TaskError(Code.NotFound, `process ${execId} does not exist in task ${t.id}`);
    return p;
  }

  private vnodeOf(t: TaskRecord): Vnode {
    const v = this.vnodes.get(t.vnode);
    if (!v || !v.alive()) throw new TaskError(Code.FailedPrecondition, `the vNode ${t.vnode} of task ${t.id} is gone`);
    return v;
  }

  // --- exits ------------------------------------------------------------------------

  private onExit(v: Vnode, r: ExitRecord): void {
    for (const t of this.store.all()) {
      if (t.vnode !== v.name) continue;
      for (const p of [t.init, ...Object.values(t.execs)]) {
        if (p.status !== 'stopped' && p.vnodePid === r.pid) {
          this.markExited(t, p, exitCodeOf(r.status), r.at);
          return;
        }
      }
    }
    this.unclaimed.set(`${v.name}:${r.pid}`, r);
    if (this.unclaimed.size > 4096) this.unclaimed.delete(this.unclaimed.keys().next().value!);
  }

  /** An exit the vNode init logged before we knew the PID was this process's (it ran and ended fast). */
  private claimEarlyExit(t: TaskRecord, p: ProcessRecord, since: number): void {
    const k = `${t.vnode}:${p.vnodePid}`;
    const r = this.unclaimed.get(k);
    // Only an exit after the process was created: an older one is a reused PID's.
    if (r && r.at.getTime() >= since - 1000) {
      this.unclaimed.delete(k);
      this.markExited(t, p, exitCodeOf(r.status), r.at);
    }
  }

  private markExited(t: TaskRecord, p: ProcessRecord, code: number, at: Date): void {
    if (p.status === 'stopped') return;
    const starting = this.liveOf(t, p.execId);
    if (starting.starting) {
      starting.pendingExit = { code, at };
      return;
    }
    const isInit = p === t.init;
    if (isInit && code === 137 && t.cgroup && oomKills(t.cgroup) > 0) {
      // Before the exit, as the runc shim does: CRI then reports the reason OOMKilled.
      this.o.events.publish('/tasks/oom', t.namespace, { containerId: t.id });
    }
    p.status = 'stopped';
    p.exitStatus = code;
    p.exitedAt = at.toISOString();
    this.store.save(t);
    const live = this.liveOf(t, p.execId);
    live.stdio?.closeStdin();
    this.o.events.publish('/tasks/exit', t.namespace, { containerId: t.id, id: p.execId || t.id, pid: p.hostPid, exitStatus: code, exitedAt: at });
    for (const w of live.waiters.splice(0)) w(p);
    if (isInit) {
      // Like the runc shim: when init goes, exec processes that share a PID namespace
      // with others (hostPID) must not outlive it.
      const running = Object.values(t.execs).filter((e) => e.status !== 'stopped');
      if (running.length > 0) {
        const v = this.vnodes.get(t.vnode);
        if (v?.alive()) this.runtime(t.runtime).run(v.initPid, ['kill', '--all', t.id, 'KILL']).catch(() => undefined);
      }
    }
  }

  // --- Task API ---------------------------------------------------------------------

  async create(req: CreateTaskRequest, ctx: { namespace: string }): Promise<{ pid: number }> {
    // containerd 1.x sends no namespace in the ttrpc metadata; its bundle path names it
    // (<state>/io.containerd.runtime.v2.task/<namespace>/<id>).
    const ns = ctx.namespace || namespaceOfBundle(req.bundle, req.id) || 'default';
    if (this.store.get(ns, req.id)) throw new TaskError(Code.AlreadyExists, `task ${req.id} already exists in namespace ${ns}`);
    this.tombstones.clear(ns, req.id);
    if (req.checkpoint) throw new TaskError(Code.Unimplemented, `task ${req.id}: restoring from a checkpoint is not supported by vnode`);
    let runtimeBinary: string;
    try {
      runtimeBinary = resolveRuntime(this.runtimeOption(req.options));
    } catch (e) {
      throw asTaskError(e, `create ${req.id}`);
    }
    const bundle = resolve(req.bundle);
    let specText: string;
    try {
      specText = readFileSync(join(bundle, 'config.json'), 'utf8');
    } catch (e) {
      throw new TaskError(Code.InvalidArgument, `create ${req.id}: cannot read ${join(bundle, 'config.json')}: ${(e as Error).message}`);
    }
    const undo: (() => void | Promise<void>)[] = [];
    const member = taskKey(ns, req.id);
    try {
      const spec = parseSpec(specText, join(bundle, 'config.json'));
      const who = podIdentity(spec);
      let vnodeKey: string;
      let sandbox: TaskRecord | undefined;
      if (who.kind === 'task') vnodeKey = `ctr/${ns}`;
      else {
        if (who.kind === 'container') {
          sandbox = who.sandboxId ? this.store.get(ns, who.sandboxId) : undefined;
          if (!sandbox) throw new TaskError(Code.FailedPrecondition, `create ${req.id}: its pod sandbox ${who.sandboxId ?? '(unnamed)'} is not running under the vnode runtime`);
        }
        vnodeKey = this.o.perPod ? `pod/${who.sandboxId ?? req.id}` : `ns/${who.podNamespace ?? ns}`;
        if (sandbox) vnodeKey = this.vnodes.get(sandbox.vnode)?.record.key ?? vnodeKey;
      }
      const v = await this.vnodes.acquire(vnodeKey, member);
      undo.push(() => this.vnodes.release(member));

      const scratch = join(this.o.paths.mounts, encodeURIComponent(ns), req.id);
      // Our own directory, not the bundle's rootfs: the runtime opens it from inside the
      // user namespace, and containerd's state dir need not be traversable there.
      const rootfs = join(scratch, 'rootfs');
      const runtimeBundle = join(scratch, 'bundle');
      mkdirSync(scratch, { recursive: true, mode: 0o711 });
      mkdirSync(runtimeBundle, { recursive: true, mode: 0o700 });
      undo.push(() => unmountRootfs({ target: rootfs, scratch }));

      const sandboxPid = sandbox?.init.vnodePid;
      const plan = planSpec({
        spec,
        vnode: {
          uidBase: v.record.range.start,
          gidBase: v.record.range.start,
          size: v.record.range.size,
          nsPath: (type) => `/proc/1/ns/${type === 'network' ? 'net' : type}`,
          hostPathRoot: v.hostPathRoot,
        },
        rootfsPath: rootfs,
        podFilePrefixes: this.o.podFilePrefixes,
        podFileMarkers: ['io.containerd.grpc.v1.cri', 'io.containerd.runtime.v2.task', 'io.containerd.cri.v1.runtime'],
        idmapDir: join(scratch, 'files'),
        vnodePidOf: (hostPid) => v.vnodePidOf(hostPid),
        podNetnsPath: sandboxPid ? `/proc/${sandboxPid}/ns/net` : undefined,
        isSandbox: who.kind === 'sandbox',
        hostDeviceNode,
      });

      // vnodefs over /proc and /sys: a pod's containers use their sandbox's entry; a task
      // without CRI gets its own. The pause container reads nothing there.
      let view: TaskRecord['view'];
      const pv = this.o.procView;
      const place = (viewId: string) => {
        const { mounts, maskedPaths, hookBinds } = pv!.placement(viewId);
        plan.spec.mounts = [...(plan.spec.mounts ?? []), ...mounts];
        plan.spec.linux!.maskedPaths = [...new Set([...(plan.spec.linux!.maskedPaths ?? []), ...maskedPaths])];
        if (hookBinds.length > 0) {
          // In the container's mount namespace before pivot_root: destinations are below the rootfs.
          // What the runtime makes read-only (/proc/sys unless privileged) stays read-only here too:
          // its read-only remount does not reach mounts made below it.
          const ro = (plan.spec.linux!.readonlyPaths ?? []) as string[];
          const modeOf = (b: (typeof hookBinds)[number]) => (ro.some((p) => b.destination === p || b.destination.startsWith(`${p}/`)) ? 'ro' : b.mode);
          const args = hookBinds.flatMap((b) => [modeOf(b), b.source, join(rootfs, b.destination)]);
          const hooks = (plan.spec.hooks ?? {}) as Record<string, { path: string; args?: string[] }[]>;
          hooks.createContainer = [...(hooks.createContainer ?? []), { path: helperPath('vnode-bind'), args: ['vnode-bind', ...args] }];
          plan.spec.hooks = hooks;
        }
      };
      if (pv && who.kind === 'container' && sandbox?.view && pv.has(sandbox.view.id)) {
        place(sandbox.view.id);
      } else if (pv && who.kind === 'task') {
        const cg = taskCgroupOf(plan.spec.linux?.cgroupsPath, isUnifiedHost());
        if (cg) {
          view = { id: viewId('task', `${ns}_${req.id}`), spec: { cgroup: cg, startedAt: Date.parse(v.record.createdAt), pidNamespaceInitPid: v.initPid, rootHostUid: v.record.range.start, scope: v.name } };
          pv.add(view.id, view.spec);
          undo.push(() => pv.remove(view!.id));
          place(view.id);
        }
      }

      const userns = v.nsFile('user');
      if (req.rootfs.length > 0) {
        mountRootfs(req.rootfs, { target: rootfs, scratch: join(scratch, 'layers'), usernsFile: userns, rootId: v.record.range.start });
      } else {
        // `ctr run --rootfs` style: the bundle names a directory; give the vNode an ID-mapped view.
        const given = resolve(bundle, spec.root!.path);
        idmapPodFile(given, rootfs, userns);
      }
      const idmaps: string[] = [];
      for (const step of plan.idmaps) {
        mkdirSync(join(scratch, 'files'), { recursive: true, mode: 0o711 });
        idmapPodFile(step.source, step.target, userns);
        idmaps.push(step.target);
      }
      // nosuid/nodev/noexec of a source mount are locked inside a user namespace: a
      // read-only remount by the runtime must repeat them or it fails with EPERM.
      const table = idmaps.length > 0 ? mountTable() : new Map<string, string[]>();
      for (const m of plan.spec.mounts ?? []) {
        const opts = m.source ? table.get(m.source) : undefined;
        if (!opts || !idmaps.includes(m.source!)) continue;
        const locked = opts.filter((o) => o === 'nosuid' || o === 'nodev' || o === 'noexec');
        m.options = [...new Set([...(m.options ?? []), ...locked])];
      }
      for (const hp of plan.hostPaths) ensureHostPath(v.hostPathRoot, hp.path, hp.hostSource, v.record.range.start);
      writeFileSync(join(runtimeBundle, 'config.json'), JSON.stringify(plan.spec));

      const init: ProcessRecord = { execId: '', status: 'created', vnodePid: 0, hostPid: 0, terminal: req.terminal, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr };
      const t: TaskRecord = {
        namespace: ns,
        id: req.id,
        bundle,
        vnode: v.name,
        kind: who.kind,
        sandboxId: who.sandboxId,
        pod: who.kind === 'task' ? undefined : `pod ${who.podNamespace ?? '?'}/${who.podName ?? '?'}${who.kind === 'container' ? ` container ${who.containerName ?? '?'}` : ''}`,
        rootfs,
        scratch,
        idmaps,
        runtimeBundle,
        runtime: runtimeBinary,
        paused: false,
        init,
        execs: {},
        rootfsMounts: req.rootfs,
        view,
      };
      const pidFile = join(scratch, 'init.pid');
      const since = Date.now();
      await this.startProcess(t, init, v, ['create', '--bundle', runtimeBundle, '--pid-file', pidFile], pidFile, undo);
      t.cgroup = init.hostPid > 0 ? cgroupOf(init.hostPid) : undefined;
      if (!t.cgroup) this.o.log(`create ${req.id}: no cgroup found for host pid ${init.hostPid} (vNode pid ${init.vnodePid})`);
      if (pv && who.kind === 'sandbox' && t.cgroup) {
        t.view = { id: viewId('pod', req.id), spec: { cgroup: podCgroupOf(t.cgroup), startedAt: Date.parse(v.record.createdAt), pidNamespaceInitPid: v.initPid, rootHostUid: v.record.range.start, scope: v.name } };
        pv.add(t.view.id, t.view.spec);
        pv.warm(t.view.id);
      }
      this.store.put(t);
      this.claimEarlyExit(t, init, since);
      this.o.events.publish('/tasks/create', ns, {
        containerId: req.id,
        bundle,
        rootfs: req.rootfs,
        io: { stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, terminal: req.terminal },
        checkpoint: '',
        pid: init.hostPid,
      });
      return { pid: init.hostPid };
    } catch (e) {
      for (const u of undo.reverse()) {
        try {
          await u();
        } catch (err) {
          this.o.log(`create ${req.id}: cleanup step failed: ${(err as Error).message}`);
        }
      }
      throw asTaskError(e, `create ${req.id}`);
    }
  }

  /**
   * Seccomp listeners vnode-hold kept across a restart: each goes back to the supervisor
   * with its process's context; one whose process is no longer known is let go.
   */
  adoptListeners(listeners: { id: string; fd: number }[], drop: (id: string) => void): void {
    for (const { id, fd } of listeners) {
      const owner = this.store.all().flatMap((t) => [t.init, ...Object.values(t.execs)].map((p) => ({ t, p }))).find(({ p }) => p.seccompListener === id);
      if (owner && owner.p.status !== 'stopped') {
        this.supervise(fd, owner.t, owner.p);
        // what the previous manager received and did not answer
        this.o.supervisor?.replayPending(fd);
      } else {
        drop(id);
        closeSync(fd);
      }
    }
  }

  /** Hands the seccomp listener of a container (or exec) to the supervisor, with what it answers from. */
  private supervise(fd: number, t: TaskRecord, p: ProcessRecord): void {
    const sup = this.o.supervisor;
    if (!sup) return void closeSync(fd);
    // kept by vnode-hold under this id, recorded with the process for the next manager
    p.seccompListener ??= `${LISTENER_ID_PREFIX}${randomBytes(8).toString('hex')}`;
    const describe = `${t.pod ?? `task ${t.namespace}/${t.id}`}${p.execId ? ` exec ${p.execId}` : ''} (vNode ${t.vnode})`;
    // a container reads its sandbox's entry; a sandbox or a task without CRI its own
    const entry = (): string | undefined => {
      const id = t.view?.id ?? (t.sandboxId ? this.store.get(t.namespace, t.sandboxId)?.view?.id : undefined);
      return id && this.o.procView?.has(id) ? id : undefined;
    };
    sup.add(fd, {
      describe,
      sysinfo: (pid) => {
        const id = entry();
        return id ? this.o.procView!.fs.sysinfoOf(id, pid) : undefined;
      },
      overlays: (fs) => {
        const id = entry();
        if (!id) return undefined;
        const prefix = `/${fs}/`;
        return this.o.procView!.fs.bindMounts(id).filter((m) => m.destination.startsWith(prefix)).map((m) => ({ source: m.source, rel: m.destination.slice(prefix.length) }));
      },
    }, p.seccompListener);
  }

  /** Runs `runtime <args> <id>` with the process's stdio, records its PIDs. */
  private async startProcess(t: TaskRecord, p: ProcessRecord, v: Vnode, args: string[], pidFile: string, undo: (() => void | Promise<void>)[]): Promise<void> {
    const rt = this.runtime(t.runtime);
    const live = this.liveOf(t, p.execId);
    let stdio: ProcessStdio | undefined;
    let consoleArgs: string[] = [];
    if (p.terminal) {
      const tty = await this.startTtyRelay(p);
      consoleArgs = ['--console-socket', tty.socket];
      undo.push(() => this.stopTtyRelay(p));
    } else {
      stdio = await openStdio({ stdin: p.stdin, stdout: p.stdout, stderr: p.stderr });
      live.stdio = stdio;
    }
    try {
      const [a0, ...rest] = args;
      await rt.run(v.initPid, [a0!, ...consoleArgs, ...rest, t.id], {
        stdio: stdio ? [stdio.fds[0], stdio.fds[1], stdio.fds[2]] : ['ignore', 'ignore', 'ignore'],
        seccomp: { onListener: (fd) => this.supervise(fd, t, p) },
      });
    } catch (e) {
      stdio?.closeStdin();
      throw e;
    } finally {
      stdio?.closeChildEnds();
    }
    if (!p.execId) undo.push(() => rt.run(v.initPid, ['delete', '--force', t.id]).then(() => undefined));
    const vnodePid = Number(readFileSync(pidFile, 'utf8').trim());
    if (!(vnodePid > 0)) throw new RuntimeError(`${rt.binary} wrote no PID to ${pidFile}`, null);
    p.vnodePid = vnodePid;
    p.hostPid = v.hostPidOf(vnodePid) ?? 0;
  }

  private async startTtyRelay(p: ProcessRecord): Promise<{ socket: string }> {
    const id = randomBytes(6).toString('hex');
    const socket = join(this.o.paths.dir, 'tty', `${id}.sock`);
    const control = join(this.o.paths.dir, 'tty', `${id}.ctl`);
    const bin = helperPath('vnode-tty');
    const args = ['--socket', socket, '--control', control, '--stdout', p.stdout];
    if (p.stdin) args.push('--stdin', p.stdin);
    await new Promise<void>((res, rej) => {
      const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
      let err = '';
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout!.once('data', () => res());
      child.on('error', (e) => rej(new StdioError(`cannot start vnode-tty: ${e.message}`)));
      child.on('exit', (code) => rej(new StdioError(`vnode-tty exited (${code}) before it was ready: ${err.trim()}`)));
      child.unref();
    });
    p.ttyControl = control;
    return { socket };
  }

  private stopTtyRelay(p: ProcessRecord): void {
    if (p.ttyControl) rmSync(p.ttyControl, { force: true });
  }

  private ttyCommand(p: ProcessRecord, line: string): void {
    if (!p.ttyControl || !existsSync(p.ttyControl)) return;
    try {
      writeFifoLine(p.ttyControl, line);
    } catch (e) {
      this.o.log(`terminal control ${p.ttyControl}: ${(e as Error).message}`);
    }
  }

  private runtimeOption(options: Any | undefined): string | undefined {
    if (!options || options.value.length === 0) return undefined;
    const type = anyTypeName(options);
    if (type !== RUNC_OPTIONS) {
      throw new TaskError(Code.InvalidArgument, `unknown runtime options type "${options.typeUrl}": the vnode runtime takes containerd.runc.v1.Options (runtime "options" table in containerd's config)`);
    }
    const o = unpackAny<RuncOptions>(options);
    if (o.systemdCgroup) throw new TaskError(Code.InvalidArgument, 'SystemdCgroup = true is not supported by the vnode runtime yet; use the cgroupfs driver');
    return o.binaryName || undefined;
  }

  async start(req: { id: string; execId: string }, ctx: { namespace: string }): Promise<{ pid: number }> {
    const t = this.task(ctx.namespace, req.id);
    const p = this.proc(t, req.execId);
    if (p.status !== 'created') throw new TaskError(Code.FailedPrecondition, `process ${req.execId || req.id} is ${p.status}, not created`);
    const v = this.vnodeOf(t);
    const live = this.liveOf(t, req.execId);
    live.starting = true;
    try {
      return await this.startAndPublish(t, p, v, req);
    } finally {
      live.starting = false;
      const pending = live.pendingExit;
      live.pendingExit = undefined;
      if (pending) this.markExited(t, p, pending.code, pending.at);
    }
  }

  private async startAndPublish(t: TaskRecord, p: ProcessRecord, v: Vnode, req: { id: string; execId: string }): Promise<{ pid: number }> {
    try {
      if (!req.execId) {
        await this.runtime(t.runtime).run(v.initPid, ['start', t.id]);
        if (p.status === 'created') p.status = 'running';
        this.store.save(t);
        this.o.events.publish('/tasks/start', t.namespace, { containerId: t.id, pid: p.hostPid });
        return { pid: p.hostPid };
      }
      if (t.init.status !== 'running') throw new TaskError(Code.FailedPrecondition, `container ${t.id} is not running`);
      const dir = join(t.scratch, 'exec');
      mkdirSync(dir, { recursive: true });
      const procFile = join(dir, `${encodeURIComponent(req.execId)}.json`);
      const pidFile = join(dir, `${encodeURIComponent(req.execId)}.pid`);
      const spec = { ...(p.spec as object), terminal: p.terminal } as { oomScoreAdj?: number };
      if ((spec.oomScoreAdj ?? 0) < 0) spec.oomScoreAdj = 0;
      writeFileSync(procFile, JSON.stringify(spec));
      const since = Date.now();
      await this.startProcess(t, p, v, ['exec', '--detach', '--process', procFile, '--pid-file', pidFile], pidFile, []);
      if (p.status === 'created') p.status = 'running';
      this.store.save(t);
      this.claimEarlyExit(t, p, since);
      this.o.events.publish('/tasks/exec-started', t.namespace, { containerId: t.id, execId: req.execId, pid: p.hostPid });
      return { pid: p.hostPid };
    } catch (e) {
      throw asTaskError(e, `start ${req.execId || req.id}`);
    }
  }

  async exec(req: { id: string; execId: string; terminal: boolean; stdin: string; stdout: string; stderr: string; spec?: Any }, ctx: { namespace: string }): Promise<void> {
    const t = this.task(ctx.namespace, req.id);
    if (t.execs[req.execId]) throw new TaskError(Code.AlreadyExists, `exec process ${req.execId} already exists in task ${t.id}`);
    if (t.init.status === 'stopped') throw new TaskError(Code.FailedPrecondition, `container ${t.id} is stopped`);
    let spec: unknown;
    try {
      spec = JSON.parse(Buffer.from(req.spec?.value ?? new Uint8Array()).toString('utf8'));
    } catch (e) {
      throw new TaskError(Code.InvalidArgument, `exec ${req.execId}: the process spec is not valid JSON: ${(e as Error).message}`);
    }
    const args = (spec as { args?: unknown }).args;
    if (!Array.isArray(args) || args.length === 0) throw new TaskError(Code.InvalidArgument, `exec ${req.execId}: the process spec has no args`);
    t.execs[req.execId] = { execId: req.execId, status: 'created', vnodePid: 0, hostPid: 0, terminal: req.terminal, stdin: req.stdin, stdout: req.stdout, stderr: req.stderr, spec };
    this.store.save(t);
    this.o.events.publish('/tasks/exec-added', t.namespace, { containerId: t.id, execId: req.execId });
  }

  async state(req: { id: string; execId: string }, ctx: { namespace: string }) {
    const t = this.task(ctx.namespace, req.id);
    const p = this.proc(t, req.execId);
    let status: TaskStatus = p.status === 'created' ? TaskStatus.Created : p.status === 'running' ? TaskStatus.Running : TaskStatus.Stopped;
    if (!req.execId && t.paused && p.status === 'running') status = TaskStatus.Paused;
    return {
      id: req.execId || t.id,
      bundle: t.bundle,
      pid: p.hostPid,
      status,
      stdin: p.stdin,
      stdout: p.stdout,
      stderr: p.stderr,
      terminal: p.terminal,
      exitStatus: p.exitStatus ?? 0,
      exitedAt: p.exitedAt ? new Date(p.exitedAt) : undefined,
      execId: req.execId,
    };
  }

  async kill(req: { id: string; execId: string; signal: number; all: boolean }, ctx: { namespace: string }): Promise<void> {
    const t = this.task(ctx.namespace, req.id);
    const p = this.proc(t, req.execId);
    if (p.status === 'stopped' && !req.all) throw new TaskError(Code.NotFound, `process ${req.execId || req.id} already finished`);
    const v = this.vnodes.get(t.vnode);
    if (!v?.alive()) throw new TaskError(Code.NotFound, `process ${req.execId || req.id} already finished (its vNode is gone)`);
    try {
      if (!req.execId) {
        const args = req.all ? ['kill', '--all', t.id, String(req.signal)] : ['kill', t.id, String(req.signal)];
        await this.runtime(t.runtime).run(v.initPid, args);
      } else {
        // PID 0 would signal the manager's own process group: never guess.
        if (!(p.hostPid > 0)) throw new TaskError(Code.NotFound, `process ${req.execId} has no known host PID`);
        process.kill(p.hostPid, req.signal);
      }
    } catch (e) {
      const msg = (e as Error).message;
      if ((e as NodeJS.ErrnoException).code === 'ESRCH' || /not running|container not found|process already finished/.test(msg)) {
        throw new TaskError(Code.NotFound, `process ${req.execId || req.id} already finished`);
      }
      throw asTaskError(e, `kill ${req.execId || req.id}`);
    }
  }

  async wait(req: { id: string; execId: string }, ctx: { namespace: string; signal?: AbortSignal }) {
    const t = this.task(ctx.namespace, req.id);
    const p = this.proc(t, req.execId);
    const done = p.status === 'stopped' ? p : await new Promise<ProcessRecord>((res, rej) => {
      this.liveOf(t, req.execId).waiters.push(res);
      ctx.signal?.addEventListener('abort', () => rej(new TaskError(Code.Canceled, 'wait cancelled')), { once: true });
    });
    return { exitStatus: done.exitStatus ?? 0, exitedAt: done.exitedAt ? new Date(done.exitedAt) : undefined };
  }

  async delete(req: { id: string; execId: string }, ctx: { namespace: string }) {
    const t = this.task(ctx.namespace, req.id);
    const p = this.proc(t, req.execId);
    if (req.execId) {
      if (p.status === 'running') throw new TaskError(Code.FailedPrecondition, `cannot delete running exec process ${req.execId}`);
      delete t.execs[req.execId];
      this.store.save(t);
      this.live.delete(`${taskKey(t.namespace, t.id)}#${req.execId}`);
      this.stopTtyRelay(p);
      return { pid: p.hostPid, exitStatus: p.exitStatus ?? 0, exitedAt: p.exitedAt ? new Date(p.exitedAt) : undefined };
    }
    if (p.status === 'running') throw new TaskError(Code.FailedPrecondition, `cannot delete running task ${t.id}: kill it first`);
    const result = await this.destroy(t);
    this.tombstones.write(t.namespace, t.id, encode('containerd.task.v2.DeleteResponse', result));
    this.o.events.publish('/tasks/delete', t.namespace, { containerId: t.id, pid: result.pid, exitStatus: result.exitStatus, exitedAt: result.exitedAt, id: '' });
    return result;
  }

  /** Removes a task's runtime state, mounts, terminal relays and vNode membership. */
  async destroy(t: TaskRecord): Promise<{ pid: number; exitStatus: number; exitedAt: Date }> {
    const v = this.vnodes.get(t.vnode);
    if (v?.alive()) {
      try {
        await this.runtime(t.runtime).run(v.initPid, ['delete', '--force', t.id]);
      } catch (e) {
        if (!/does not exist|not found/.test((e as Error).message)) this.o.log(`delete ${t.id}: ${(e as Error).message}`);
      }
      if (t.init.status !== 'stopped') {
        v.drainExits();
        if ((t.init.status as string) !== 'stopped') this.markExited(t, t.init, 137, new Date());
      }
    } else if (t.init.status !== 'stopped') {
      this.markExited(t, t.init, 137, new Date());
    }
    for (const p of [t.init, ...Object.values(t.execs)]) this.stopTtyRelay(p);
    if (t.view) this.o.procView?.remove(t.view.id);
    unmountRootfs({ target: t.rootfs, scratch: t.scratch });
    this.store.remove(t);
    for (const k of [...this.live.keys()]) if (k.startsWith(`${taskKey(t.namespace, t.id)}#`)) this.live.delete(k);
    await this.vnodes.release(taskKey(t.namespace, t.id));
    return { pid: t.init.hostPid, exitStatus: t.init.exitStatus ?? 137, exitedAt: t.init.exitedAt ? new Date(t.init.exitedAt) : new Date() };
  }

  async pids(req: { id: string }, ctx: { namespace: string }) {
    const t = this.task(ctx.namespace, req.id);
    if (t.init.status === 'stopped' || !isAlive(t.init.hostPid)) return { processes: [] };
    const loc = t.cgroup ?? cgroupOf(t.init.hostPid);
    const pids = loc ? cgroupPids(loc) : [t.init.hostPid];
    const byHostPid = new Map(Object.values(t.execs).map((e) => [e.hostPid, e.execId]));
    return {
      processes: pids.map((pid) => {
        const execId = byHostPid.get(pid);
        return execId ? { pid, info: packAny(RUNC_PROCESS_DETAILS, { execId }) } : { pid };
      }),
    };
  }

  async pause(req: { id: string }, ctx: { namespace: string }): Promise<void> {
    const t = this.task(ctx.namespace, req.id);
    const v = this.vnodeOf(t);
    try {
      await this.runtime(t.runtime).run(v.initPid, ['pause', t.id]);
    } catch (e) {
      throw asTaskError(e, `pause ${t.id}`);
    }
    t.paused = true;
    this.store.save(t);
    this.o.events.publish('/tasks/paused', t.namespace, { containerId: t.id });
  }

  async resume(req: { id: string }, ctx: { namespace: string }): Promise<void> {
    const t = this.task(ctx.namespace, req.id);
    const v = this.vnodeOf(t);
    try {
      await this.runtime(t.runtime).run(v.initPid, ['resume', t.id]);
    } catch (e) {
      throw asTaskError(e, `resume ${t.id}`);
    }
    t.paused = false;
    this.store.save(t);
    this.o.events.publish('/tasks/resumed', t.namespace, { containerId: t.id });
  }

  async checkpoint(req: { id: string }): Promise<void> {
    throw new TaskError(Code.Unimplemented, `checkpoint ${req.id}: checkpoint/restore is not supported inside vNodes`);
  }

  async resizePty(req: { id: string; execId: string; width: number; height: number }, ctx: { namespace: string }): Promise<void> {
    const t = this.task(ctx.namespace, req.id);
    const p = this.proc(t, req.execId);
    if (!p.terminal) throw new TaskError(Code.FailedPrecondition, `process ${req.execId || req.id} has no terminal`);
    this.ttyCommand(p, `resize ${req.width} ${req.height}`);
  }

  async closeIO(req: { id: string; execId: string; stdin: boolean }, ctx: { namespace: string }): Promise<void> {
    const t = this.task(ctx.namespace, req.id);
    const p = this.proc(t, req.execId);
    if (!req.stdin) return;
    if (p.terminal) this.ttyCommand(p, 'close-stdin');
    else this.liveOf(t, req.execId).stdio?.closeStdin();
  }

  async update(req: { id: string; resources?: Any }, ctx: { namespace: string }): Promise<void> {
    const t = this.task(ctx.namespace, req.id);
    const v = this.vnodeOf(t);
    const json = Buffer.from(req.resources?.value ?? new Uint8Array()).toString('utf8');
    try {
      JSON.parse(json || '{}');
    } catch (e) {
      throw new TaskError(Code.InvalidArgument, `update ${t.id}: resources are not valid JSON: ${(e as Error).message}`);
    }
    try {
      await this.runtime(t.runtime).run(v.initPid, ['update', '--resources', '-', t.id], { input: json || '{}' });
    } catch (e) {
      throw asTaskError(e, `update ${t.id}`);
    }
  }

  async stats(req: { id: string }, ctx: { namespace: string }) {
    const t = this.task(ctx.namespace, req.id);
    const loc = t.cgroup ?? cgroupOf(t.init.hostPid);
    if (!loc) throw new TaskError(Code.NotFound, `stats ${t.id}: the container has no cgroup`);
    const m = metricsOf(loc);
    return { stats: packAny(m.type, m.value) };
  }

  async connect(req: { id: string }, ctx: { namespace: string }) {
    const t = this.store.get(ctx.namespace, req.id) ?? this.store.findById(req.id);
    return { shimPid: process.pid, taskPid: t?.init.hostPid ?? 0, version: VERSION };
  }

  async shutdown(): Promise<void> {
    // One manager serves every vNode task of this containerd: a shim's Shutdown
    // never takes it down.
  }
}

export function namespaceOfBundle(bundle: string, id: string): string | undefined {
  const parts = resolve(bundle).split('/');
  return parts.at(-1) === id && parts.length >= 3 ? parts.at(-2) : undefined;
}
