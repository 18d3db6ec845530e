// The seccomp supervisor: answers the control-path syscalls vnode's seccomp filter
// notifies (native/seccomp-filter.h), for every container of every vNode of this
// manager. Nothing on a hot path is ever notified.
//   sysinfo  → the vNode's memory, swap, uptime, load and process count, written into
//              the caller's buffer (what its /proc files show; LXCFS cannot do this)
//   bpf      → allowed for the runtime itself (host user namespace: runc loads cgroup
//              v2 device programs), EPERM inside a vNode
//   mount    → of a new filesystem only: procfs and sysfs are mounted for the caller
//              with vnodefs over them (native/vnode-mount.c), as an inner runtime
//              (docker, runc, unshare --mount-proc) would otherwise show its containers
//              the host; nfsd and rpc_pipefs (an NFS server) are refused with EPERM and
//              a log line naming the pod; anything else goes on to the kernel
// Listeners are kept by a keeper (vnode-hold) when there is one: a restarted manager
// takes them back and answers what waited meanwhile. With no copy left anywhere, the
// kernel fails notified syscalls with ENOSYS instead of letting them wait.
import { seccompNotifications, type SeccompNotification } from './diagnostics.js';
import { spawn } from 'node:child_process';
import { closeSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { callbackLogger, type LogFields, type Logger } from '../log/index.js';
import { SyscallError } from '../sys/index.js';
import type { SysinfoView } from '../vnodefs/index.js';
import { encodeResponse, encodeSysinfo, NOTIF_SIZE, parseNotification, SUPERVISED_FS_TYPES, type Notification } from './abi.js';
import { hasCapSysAdmin, inHostUserNs, openMem, readString, writeAt } from './caller.js';
import { ListenerPoller, type PollerEvent } from './poller.js';
import { notificationPending, respond } from './respond.js';

const EPERM = 1;
const ENOSYS = 38;
const EFAULT = 14;

/** Who a listener's callers are: the task it was installed for, and how to see its vNode. */
export interface ListenerContext {
  /** For the log: "<namespace>/<pod> container <name>" or the task id. */
  describe: string;
  /** Fields for this listener's log records (pod, vNode, task, exec). */
  fields?: LogFields;
  /** The vNode's sysinfo for host process `pid`; undefined when the entry is gone (then the host's is left). */
  sysinfo(pid: number): SysinfoView | undefined;
  /** vnodefs files to lay over a new procfs or sysfs mount: host path → path below the mount. */
  overlays(fs: 'proc' | 'sys'): { source: string; rel: string }[] | undefined;
}

/** Keeps copies of listeners across a manager restart (vnode-hold). */
export interface ListenerKeeper {
  keep(fd: number, id: string): void;
  drop(id: string): void;
}

export interface SupervisorOptions {
  /** Where refusals and failures are logged; records carry the listener's fields (ListenerContext.fields). */
  logger?: Logger;
  /** A plain callback instead of a logger (tests). */
  log?: (msg: string) => void;
  keeper?: ListenerKeeper;
  /** native/vnode-mount: makes procfs/sysfs mounts for callers; without it they go on to the kernel. */
  mountHelper?: string;
  /** native/vnode-notify: waits on the listeners for this process. */
  notifyHelper: string;
  /** Where vnode-notify journals notifications until they are answered (default: none kept). */
  pendingDir?: string;
}

export interface SupervisorStats {
  listeners: number;
  handled: Record<string, number>;
}


export class Supervisor {
  private readonly listeners = new Map<number, { ctx: ListenerContext; id?: string }>();
  private readonly handled: Record<string, number> = {};
  private poller: ListenerPoller | undefined;
  /** Why the poller died, if it did: listeners are then closed at once (ENOSYS for their callers). */
  private failed: string | undefined;

  private readonly logger: Logger;
  private readonly mountHelper: string | undefined;
  private readonly keeper: ListenerKeeper | undefined;

  private readonly notifyHelper: string;
  private readonly pendingDir: string;

  constructor(o: SupervisorOptions) {
    this.pendingDir = o.pendingDir ?? '';
    this.logger = o.logger ?? callbackLogger(o.log ?? ((m) => process.stderr.write(`${m}\n`)));
    this.mountHelper = o.mountHelper;
    this.notifyHelper = o.notifyHelper;
    this.keeper = o.keeper;
  }

  /**
   * Serves listener `fd` (now owned by the supervisor) for callers described by `ctx`;
   * with `id`, the keeper holds a copy under it (again: a listener taken back).
   */
  add(fd: number, ctx: ListenerContext, id?: string): void {
    if (this.failed) return void closeSync(fd);
    this.listeners.set(fd, { ctx, id });
    if (id) this.keeper?.keep(fd, id);
    this.poller ??= new ListenerPoller(this.notifyHelper, this.pendingDir, (e) => this.onEvent(e), (why) => this.fail(why));
    this.poller.add(fd, id);
  }

  /**
   * Answers what a previous manager's vnode-notify received on listener `fd` (taken back
   * from vnode-hold) but nobody answered: still pending, it is handled as if it had just
   * arrived; gone, its journal entry goes.
   */
  replayPending(fd: number): void {
    const id = this.listeners.get(fd)?.id;
    if (!id) return;
    for (const name of this.journalOf(id)) {
      let notif: Buffer;
      try {
        notif = readFileSync(join(this.pendingDir, name));
      } catch {
        continue;
      }
      if (notif.length === NOTIF_SIZE) this.onEvent({ fd, notif: new Uint8Array(notif) });
      else rmSync(join(this.pendingDir, name), { force: true });
    }
  }

  /** Journal entries (file names) of listener `id`. */
  private journalOf(id: string): string[] {
    if (!this.pendingDir) return [];
    try {
      return readdirSync(this.pendingDir).filter((f) => f.startsWith(`${id}.`) && !f.endsWith('.tmp'));
    } catch {
      return [];
    }
  }

  /** Listener `id` is done with: the keeper's copy and its journal entries go. */
  private release(id: string): void {
    this.keeper?.drop(id);
    for (const name of this.journalOf(id)) rmSync(join(this.pendingDir, name), { force: true });
  }

  /** Notification `nid` of listener `fd` is settled (answered, or its caller is gone). */
  private settled(fd: number, nid: bigint): void {
    const id = this.listeners.get(fd)?.id;
    if (id && this.pendingDir) rmSync(join(this.pendingDir, `${id}.${nid.toString(16).padStart(16, '0')}`), { force: true });
  }

  /** Whether notification `nid` still waits for an answer; if not, it is settled. */
  private pending(fd: number, nid: bigint): boolean {
    if (notificationPending(fd, nid)) return true;
    this.settled(fd, nid);
    return false;
  }

  /** Nobody can answer any more: closing the listeners makes the kernel fail their syscalls with ENOSYS. */
  private fail(why: string): void {
    if (this.failed) return;
    this.failed = why;
    this.logger.error(`seccomp supervisor stopped (${why}): notified syscalls (sysinfo, mount, bpf) now fail with ENOSYS`);
    // the keeper's copies too, or the callers would wait for a supervisor that never comes
    for (const [fd, { id }] of this.listeners) {
      if (id) this.release(id);
      closeSync(fd);
    }
    this.listeners.clear();
  }

  stats(): SupervisorStats {
    return { listeners: this.listeners.size, handled: { ...this.handled } };
  }

  async close(): Promise<void> {
    await this.poller?.close();
    this.poller = undefined;
    for (const fd of this.listeners.keys()) closeSync(fd);
    this.listeners.clear();
  }

  private onEvent(e: PollerEvent): void {
    const entry = this.listeners.get(e.fd);
    if (!entry) return;
    const { ctx } = entry;
    if ('hangup' in e) {
      // every task under this filter is gone
      if (entry.id) this.release(entry.id);
      this.listeners.delete(e.fd);
      closeSync(e.fd);
      return;
    }
    const n = parseNotification(e.notif);
    try {
      this.answer(e.fd, n, ctx);
    } catch (err) {
      this.logger.error({ ...ctx.fields, err, pid: n.pid }, `seccomp supervisor: ${n.syscall ?? `syscall ${n.nr}`} of pid ${n.pid} (${ctx.describe}): ${(err as Error).message}`);
      this.send(e.fd, n.id, { error: ENOSYS });
    }
  }

  private answer(fd: number, n: Notification, ctx: ListenerContext): void {
    this.handled[n.syscall ?? 'other'] = (this.handled[n.syscall ?? 'other'] ?? 0) + 1;
    if (seccompNotifications.hasSubscribers) seccompNotifications.publish({ syscall: n.syscall ?? 'other' } satisfies SeccompNotification);
    switch (n.syscall) {
      case 'sysinfo':
        return this.sysinfo(fd, n, ctx);
      case 'mount':
        return this.mount(fd, n, ctx);
      case 'bpf': {
        const host = inHostUserNs(n.pid);
        // the answer is about the process the notification is for only if it is still pending
        if (!this.pending(fd, n.id)) return;
        if (host) return this.send(fd, n.id, { continue: true });
        this.logger.warn({ ...ctx.fields, pid: n.pid }, `seccomp: bpf(2) refused with EPERM for pid ${n.pid} in ${ctx.describe}`);
        return this.send(fd, n.id, { error: EPERM });
      }
      default:
        return this.send(fd, n.id, { error: ENOSYS });
    }
  }

  private sysinfo(fd: number, n: Notification, ctx: ListenerContext): void {
    // the runtime's own host-side processes get the host's answer
    const view = inHostUserNs(n.pid) ? undefined : ctx.sysinfo(n.pid);
    if (!view) {
      if (this.pending(fd, n.id)) this.send(fd, n.id, { continue: true });
      return;
    }
    const struct = encodeSysinfo(view, n.arch);
    const mem = openMem(n.pid, 'r+');
    if (mem === undefined) return this.settled(fd, n.id); // the caller is gone; its notification went with it
    try {
      // checked after the open: the pid still names the caller, so the write reaches it
      if (!this.pending(fd, n.id)) return;
      this.send(fd, n.id, writeAt(mem, struct, n.args[0]!) ? { val: 0n } : { error: EFAULT });
    } finally {
      closeSync(mem);
    }
  }

  private mount(fd: number, n: Notification, ctx: ListenerContext): void {
    const proceed = (): void => {
      if (this.pending(fd, n.id)) this.send(fd, n.id, { continue: true });
    };
    // (the runtime's own mounts and unsupervised types never get here: vnode-notify lets them go on)
    const mem = openMem(n.pid);
    if (mem === undefined) return this.settled(fd, n.id);
    let fstype: string, source: string, target: string, data: string;
    try {
      fstype = readString(mem, n.args[2]!, 64);
      if (!SUPERVISED_FS_TYPES.has(fstype)) return proceed();
      source = readString(mem, n.args[0]!, 4096);
      target = readString(mem, n.args[1]!, 4096);
      data = readString(mem, n.args[4]!, 4096);
    } finally {
      closeSync(mem);
    }
    if (!this.pending(fd, n.id)) return;
    if (fstype === 'nfsd' || fstype === 'rpc_pipefs') {
      this.logger.warn({ ...ctx.fields, pid: n.pid }, `seccomp: ${ctx.describe}: mount of ${fstype} on ${target} refused with EPERM: running an NFS server is not supported in a vNode`);
      return this.send(fd, n.id, { error: EPERM });
    }
    const overlays = ctx.overlays(fstype === 'proc' ? 'proc' : 'sys');
    if (!this.mountHelper || !overlays?.length) return proceed();
    // the kernel would ask the caller for CAP_SYS_ADMIN; this helper runs as host root
    if (!hasCapSysAdmin(n.pid)) return this.send(fd, n.id, { error: EPERM });
    const args = [String(n.pid), fstype, source, target, String(Number(n.args[3]! & 0xffffffffn)), data, ...overlays.flatMap((o) => [o.source, o.rel])];
    // asynchronous: the helper's lookups of vnodefs files are answered by this thread
    const child = spawn(this.mountHelper, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    let answered = false;
    const answer = (r: Parameters<typeof encodeResponse>[1]): void => {
      if (answered) return;
      answered = true;
      if (this.pending(fd, n.id)) this.send(fd, n.id, r);
    };
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => {
      this.logger.error({ ...ctx.fields, err: e }, `seccomp: ${ctx.describe}: cannot start ${this.mountHelper}: ${e.message}`);
      answer({ error: ENOSYS });
    });
    child.on('close', (code) => {
      if (code !== 0) this.logger.warn({ ...ctx.fields }, `seccomp: ${ctx.describe}: ${fstype} on ${target}: ${err.trim() || `exit ${code}`}`);
      // the helper exits with the errno of the step that failed
      answer(code === 0 ? { val: 0n } : { error: code && code > 0 && code < 256 ? code : EPERM });
    });
  }

  private send(fd: number, id: bigint, r: Parameters<typeof encodeResponse>[1]): void {
    const e = respond(fd, id, r);
    this.settled(fd, id);
    // ENOENT: the caller was interrupted (a signal) and will restart or give up; nothing to do
    if (e !== 0 && e !== 2) this.logger.error(`seccomp supervisor: ${new SyscallError('ioctl', e, 'SECCOMP_IOCTL_NOTIF_SEND').message}`);
  }
}
