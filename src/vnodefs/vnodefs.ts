// VnodeFs: one FUSE mount per node that serves every vNode's files, one directory
// per vNode (<mountpoint>/<vnode-id>/...). A vNode costs a few objects in this
// process and no thread, descriptor or process of its own.
import { spawn } from 'node:child_process';
import { closeSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '../log/index.js';
import { HOST_ROOTS, HostFiles, type HostRoots } from './context.js';
import { VnodefsError, abortConnection, connectionId, isVnodefsMount, makePrivate, mountFuse, openFuseDevice, unmount } from './device.js';
import { Handler } from './handler.js';
import { findHolders, reclaimFromHolder, startHolder, stopHolder } from './holder.js';
import { SAMPLE_INTERVAL_MS } from './load.js';
import { bindMountsFor, type BindMount, type BindMountOptions } from './mounts.js';
import { Session, type SessionOptions } from './session.js';
import { Template, VNODE_ID_PATTERN } from './tree.js';
import { Vnode, type VnodeSpec } from './vnode.js';
import { VnodeScopes } from './scopes.js';
import { parseCpuList } from '../cgroup/index.js';
import { sysinfoView, type SysinfoView } from './generators/sysinfo.js';

const SAMPLE_SLICES = 20;

export interface MountOptions extends SessionOptions {
  /** Absolute directory to mount on (created if missing), e.g. /run/vnode/vnodefs. */
  mountpoint: string;
  /** vNodes to serve from the first request on (pass them when recovering after a restart). */
  vnodes?: Record<string, VnodeSpec>;
  /** Keep the connection in a holder process so a crash of this process is survivable (default true). */
  holder?: boolean;
  /** Host files to read templates from (tests). */
  hostRoots?: HostRoots;
  /** Clock (tests). */
  now?: () => number;
  /** Where vnodefs says what it did (mounted, took a connection back) and what failed. */
  log?: Logger;
}

export class VnodeFs {
  private readonly vnodes = new Map<string, Vnode>();
  private timer: NodeJS.Timeout | undefined;
  /** Set by close(): the connection ending after it is no surprise. */
  private closing = false;

  private constructor(
    readonly mountpoint: string,
    private readonly masterFd: number,
    private readonly handler: Handler,
    private readonly session: Session,
    /** PID of the descriptor holder, if any. */
    readonly holderPid: number | undefined,
    /** True if this instance took over a live connection instead of mounting anew. */
    readonly recovered: boolean,
    private readonly scopes: VnodeScopes,
  ) {}

  /**
   * Serves vnodefs at `mountpoint`. If a vnodefs mount with a live holder is already
   * there (the previous manager died), the connection is taken back and the requests
   * queued meanwhile are answered; otherwise a fresh mount is made.
   */
  static async mount(opts: MountOptions): Promise<VnodeFs> {
    const mp = opts.mountpoint;
    if (!mp.startsWith('/')) throw new VnodefsError('VNODEFS_BAD_ARGUMENT', `mountpoint must be absolute: ${mp}`);
    const host = new HostFiles(opts.hostRoots ?? HOST_ROOTS);
    const handler = new Handler(new Template(maxCpus(host)), host, opts.now, opts.log);
    const scopes = new VnodeScopes();
    const pending: [string, Vnode][] = Object.entries(opts.vnodes ?? {}).map(([id, spec]) => [id, makeVnode(id, spec, scopes)]);
    for (const [, v] of pending) handler.addVnode(v);

    let master: number | undefined;
    let holderPid: number | undefined;
    let recovered = false;
    const holders = findHolders(mp);
    if (holders.length > 0 && isVnodefsMount(mp)) {
      holderPid = holders[0]!;
      master = reclaimFromHolder(holderPid);
      for (const extra of holders.slice(1)) stopHolder(extra, mp);
      handler.initialized = true;
      recovered = true;
    } else {
      for (const h of holders) stopHolder(h, mp);
      if (isVnodefsMount(mp)) await unmount(mp); // a dead server's mount: ENOTCONN until replaced
      mkdirSync(mp, { recursive: true });
      master = openFuseDevice();
      try {
        await mountFuse(master, mp);
      } catch (err) {
        closeSync(master);
        throw err;
      }
      if (opts.holder !== false) holderPid = startHolder(master, mp);
    }
    const session = new Session(master, handler, opts);
    const fs = new VnodeFs(mp, master, handler, session, holderPid, recovered, scopes);
    for (const [id, v] of pending) fs.vnodes.set(id, v);
    session.start();
    // mount(8) may stat the mount point: only once the session answers
    if (recovered) void makePrivate(mp).catch((e: Error) => opts.log?.warn(`vnodefs: cannot make ${mp} private: ${e.message}`));
    opts.log?.info({ holder: holderPid }, recovered
      ? `vnodefs: took the FUSE connection of ${mp} back from holder pid ${holderPid} (${pending.length} vNodes)`
      : `vnodefs: mounted ${mp}${holderPid !== undefined ? ` (holder pid ${holderPid})` : ''}`);
    void session.done.then(() => {
      if (!fs.closing) opts.log?.warn(`vnodefs: the FUSE connection of ${mp} ended (unmounted or aborted from outside)`);
    });
    fs.timer = setInterval(() => fs.sample(), SAMPLE_INTERVAL_MS / SAMPLE_SLICES);
    fs.timer.unref();
    return fs;
  }

  /** Starts serving `<mountpoint>/<id>/` for a vNode. */
  addVnode(id: string, spec: VnodeSpec): string {
    if (this.vnodes.has(id)) throw new VnodefsError('VNODEFS_EXISTS', `vNode ${id} is already served`);
    const v = makeVnode(id, spec, this.scopes);
    this.handler.addVnode(v);
    this.vnodes.set(id, v);
    return this.pathOf(id);
  }

  removeVnode(id: string): void {
    const v = this.vnodes.get(id);
    if (!v) return;
    this.handler.removeVnode(v);
    this.vnodes.delete(id);
    if (v.spec.scope !== undefined) this.scopes.release(v.spec.scope, v.cgroup);
  }

  /**
   * Sysctl values a vNode has written (name under /proc/sys → value). They live in
   * this process: save them with the vNode's state and pass them back as
   * `VnodeSpec.sysctls` after a manager restart.
   */
  sysctlsOf(id: string): Record<string, string> {
    const v = this.vnodes.get(id);
    if (!v) throw new VnodefsError('VNODEFS_UNKNOWN', `vNode ${id} is not served`);
    return Object.fromEntries(v.sysctls);
  }

  /** What sysinfo(2) should return to host process `pid` of a vNode (its view, as its files show). */
  sysinfoOf(id: string, pid: number): SysinfoView {
    const v = this.vnodes.get(id);
    if (!v) throw new VnodefsError('VNODEFS_UNKNOWN', `vNode ${id} is not served`);
    return sysinfoView(v.context(pid, this.handler.host, this.handler.now()));
  }

  /** Host path of a vNode's directory in the mount. */
  pathOf(id: string): string {
    return join(this.mountpoint, id);
  }

  /** The bind mounts (vnodefs file → path in the container) to add to a container's OCI spec. */
  bindMounts(id: string, opts?: BindMountOptions): BindMount[] {
    if (!this.vnodes.has(id)) throw new VnodefsError('VNODEFS_UNKNOWN', `vNode ${id} is not served`);
    return bindMountsFor(this.pathOf(id), opts);
  }

  stats(): { vnodes: number; requests: number; errors: number; malformed: number; interrupts: number; openHandles: number; wakeups: number; drained: number } {
    return { vnodes: this.vnodes.size, ...this.handler.stats, wakeups: this.session.stats.wakeups, drained: this.session.stats.drained };
  }

  private tick = 0;

  /**
   * Each vNode is sampled every SAMPLE_INTERVAL_MS, but the vNodes are spread over
   * SAMPLE_SLICES ticks so no single tick scans every vNode's tasks at once.
   */
  private sample(): void {
    const slice = this.tick++ % SAMPLE_SLICES;
    for (const v of this.vnodes.values()) if (v.slot % SAMPLE_SLICES === slice) v.load.sample();
  }

  /**
   * Stops serving. `unmount: true` (default) removes the mount and the holder;
   * `unmount: false` leaves both, for a successor to take over (upgrade).
   */
  async close(opts: { unmount?: boolean } = {}): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    clearInterval(this.timer);
    if (opts.unmount !== false) {
      const conn = connectionId(this.mountpoint);
      if (this.holderPid !== undefined) stopHolder(this.holderPid, this.mountpoint);
      await unmount(this.mountpoint).catch(() => undefined);
      // Bind mounts elsewhere (containers) keep the superblock alive: end the
      // connection explicitly so they fail fast and our blocked reads return.
      if (conn !== undefined) await abortConnection(conn);
      await this.session.done;
    } else {
      // A lookup of a name that does not exist is never cached: each one reaches a
      // blocked read of ours, which answers it and stops.
      const wake = (): void => {
        spawn('stat', [join(this.mountpoint, `.vnodefs-wake-${process.pid}-${Math.random().toString(36).slice(2)}`)], { stdio: 'ignore' }).on('error', () => undefined);
      };
      await this.session.close(wake);
    }
    closeSync(this.masterFd);
  }
}

function makeVnode(id: string, spec: VnodeSpec, scopes: VnodeScopes): Vnode {
  if (!VNODE_ID_PATTERN.test(id)) throw new VnodefsError('VNODEFS_BAD_ARGUMENT', `invalid vNode id: ${JSON.stringify(id)}`);
  const scope = spec.scope;
  return new Vnode(id, spec, scope === undefined ? undefined : (cgroup, nsLevel) => scopes.acquire(scope, { sysctls: spec.sysctls, cgroup, nsLevel }));
}


function maxCpus(host: HostFiles): number {
  const possible = host.sys('devices/system/cpu/possible');
  const n = possible ? parseCpuList(possible).length : host.onlineCpus().length;
  return Math.max(1, Math.min(n, 4096));
}
