// vNodes: one user namespace with its own ID range plus PID, mount, IPC, UTS, network
// and cgroup namespaces, embodied by a small C init (dist/vnode-init). A vNode is
// created with its first member task and removed with its last (its lifecycle:
// vnode-state.ts).
import { spawn } from 'node:child_process';
import { chownSync, closeSync, constants, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ExitLog, type ExitRecord } from './exit-log.js';
import { IdPool, type IdRange } from './id-pool.js';
import { helperPath } from './helpers.js';
import type { InstancePaths } from './paths.js';
import { childrenOf, isAlive, nsPids, startTimeOf } from '../sys/index.js';
import { nextVnodeState, type VnodeState, type VnodeTransition } from './vnode-state.js';

export interface VnodeRecord {
  name: string;
  /** What the vNode is for: "ns/<k8s namespace>", "pod/<sandbox id>" or "ctr/<containerd namespace>". */
  key: string;
  initPid: number;
  initStartTime: string;
  range: IdRange;
  createdAt: string;
  /** Tasks living in it, "<containerd namespace>/<task id>". */
  members: string[];
}

export class VnodeError extends Error {
  override name = 'VnodeError';
  readonly code = 'VNODE_VNODE_FAILED';
}


export class Vnode {
  private exitLog: ExitLog | undefined;
  private current: VnodeState;
  constructor(
    readonly record: VnodeRecord,
    readonly dir: string,
    readonly hostPathRoot: string,
    state: VnodeState,
  ) {
    this.current = state;
  }

  get state(): VnodeState {
    return this.current;
  }

  /** Applies a lifecycle transition; an illegal one throws IllegalTransitionError. */
  move(transition: VnodeTransition): void {
    this.current = nextVnodeState(this.record.name, this.current, transition);
  }

  /** Ready for member tasks: in state ready and its init alive. */
  usable(): boolean {
    return this.current === 'ready' && this.alive();
  }

  get name(): string {
    return this.record.name;
  }
  get initPid(): number {
    return this.record.initPid;
  }
  get exitLogPath(): string {
    return join(this.dir, 'exits.log');
  }
  nsFile(type: string): string {
    return `/proc/${this.record.initPid}/ns/${type}`;
  }
  alive(): boolean {
    return isAlive(this.record.initPid, this.record.initStartTime);
  }

  /** Whether a host process is in the vNode's own namespace of this type (a hostNetwork pod shares its UTS and network). */
  sharesNamespace(hostPid: number, type: 'uts' | 'net' | 'pid' | 'ipc'): boolean {
    if (!(hostPid > 0)) return false;
    try {
      return readlinkSync(`/proc/${hostPid}/ns/${type}`) === readlinkSync(this.nsFile(type));
    } catch {
      return false;
    }
  }

  /** Host PID of a process the vNode's init adopted, by its PID inside the vNode. */
  hostPidOf(vnodePid: number): number | undefined {
    for (const child of childrenOf(this.record.initPid)) {
      const ns = nsPids(child);
      if (ns[1] === vnodePid) return child;
    }
    return undefined;
  }

  /** PID inside the vNode of a host process, if it lives in this vNode. */
  vnodePidOf(hostPid: number): number | undefined {
    const ns = nsPids(hostPid);
    const own = nsPids(this.record.initPid);
    // The process is in this vNode if its namespace depth is below the init's and the init's PID there is 1.
    if (ns.length < 2 || own.length !== 2) return undefined;
    try {
      if (readlinkSync(`/proc/${hostPid}/ns/user`) !== readlinkSync(this.nsFile('user'))) return undefined;
    } catch {
      return undefined;
    }
    return ns[1];
  }

  followExits(onExit: (r: ExitRecord) => void): void {
    this.exitLog?.stop();
    this.exitLog = new ExitLog(this.exitLogPath, onExit);
    this.exitLog.start();
  }

  drainExits(): void {
    this.exitLog?.drain();
  }

  stopFollowing(): void {
    this.exitLog?.stop();
  }
}

export class VnodeRegistry {
  private readonly vnodes = new Map<string, Vnode>();
  private readonly pool: IdPool;
  /** acquire/release of one key run one after the other: two pods of a namespace arriving
   * together must get one vNode, and a vNode being removed must not be handed out. */
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Names taken by vNodes being created. */
  private readonly reserved = new Set<string>();

  constructor(
    private readonly paths: InstancePaths,
    poolSpec?: string,
    private readonly onExit: (vnode: Vnode, r: ExitRecord) => void = () => undefined,
    /** Runs before a vNode is removed (its init still alive if it was): takes its network off the pod network. Must not throw. */
    private readonly beforeRemove: (vnode: Vnode) => Promise<void> = async () => undefined,
  ) {
    this.pool = new IdPool(paths.idPool, poolSpec);
    mkdirSync(join(paths.state, 'vnodes'), { recursive: true });
  }

  private owner(name: string): string {
    return `${this.paths.dir}#${name}`;
  }

  list(): Vnode[] {
    return [...this.vnodes.values()];
  }

  /** ID ranges no live vNode of any manager on the node holds. */
  freeIdRanges(): number {
    return this.pool.capacity - this.pool.leases().length;
  }

  get(name: string): Vnode | undefined {
    return this.vnodes.get(name);
  }

  byKey(key: string): Vnode | undefined {
    return this.list().find((v) => v.record.key === key);
  }

  byMember(member: string): Vnode | undefined {
    return this.list().find((v) => v.record.members.includes(member));
  }

  /** Reloads vNodes after a manager restart; a vNode whose init died is cleaned up. */
  reload(): void {
    const dir = join(this.paths.state, 'vnodes');
    for (const f of readdirSync(dir)) {
      if (!f.endsWith('.json')) continue;
      const record = JSON.parse(readFileSync(join(dir, f), 'utf8')) as VnodeRecord;
      const alive = isAlive(record.initPid, record.initStartTime);
      const v = this.wrap(record, alive ? 'ready' : 'draining');
      this.vnodes.set(record.name, v);
      if (!alive) {
        v.drainExits();
        continue;
      }
      v.followExits((r) => this.onExit(v, r));
    }
  }

  private wrap(record: VnodeRecord, state: VnodeState): Vnode {
    return new Vnode(record, join(this.paths.vnodes, record.name), join(this.paths.data, 'vnodes', record.name, 'root'), state);
  }

  /** A vNode whose init died takes no member any more; it goes with its last one. */
  noticeDeath(v: Vnode): void {
    if (v.state === 'ready' && !v.alive()) v.move('drain');
  }

  private save(v: Vnode): void {
    writeFileSync(join(this.paths.state, 'vnodes', `${v.name}.json`), JSON.stringify(v.record, null, 1));
  }

  private serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.queues.get(key) ?? Promise.resolve();
    const run = prev.then(fn, fn);
    const tail = run.catch(() => undefined);
    this.queues.set(key, tail);
    void tail.then(() => {
      if (this.queues.get(key) === tail) this.queues.delete(key);
    });
    return run;
  }

  /** The vNode for `key`, created if needed, with `member` added. */
  acquire(key: string, member: string): Promise<Vnode> {
    return this.serialized(key, () => this.acquireNow(key, member));
  }

  private async acquireNow(key: string, member: string): Promise<Vnode> {
    let v = this.byKey(key);
    if (v && !v.usable()) {
      await this.destroy(v);
      v = undefined;
    }
    if (!v) v = await this.create(key);
    v.move('admit');
    if (!v.record.members.includes(member)) {
      v.record.members.push(member);
      this.save(v);
    }
    return v;
  }

  /** Drops `member`; the vNode goes with its last member. */
  async release(member: string): Promise<void> {
    const key = this.byMember(member)?.record.key;
    if (key === undefined) return;
    return this.serialized(key, () => this.releaseNow(member));
  }

  private async releaseNow(member: string): Promise<void> {
    const v = this.byMember(member);
    if (!v) return;
    v.record.members = v.record.members.filter((m) => m !== member);
    if (v.record.members.length === 0) await this.destroy(v);
    else this.save(v);
  }

  private async create(key: string): Promise<Vnode> {
    const name = vnodeName(key, (n) => this.vnodes.has(n) || this.reserved.has(n));
    this.reserved.add(name);
    try {
      return await this.createNamed(key, name);
    } finally {
      this.reserved.delete(name);
    }
  }

  private async createNamed(key: string, name: string): Promise<Vnode> {
    const range = this.pool.allocate(this.owner(name));
    const dir = join(this.paths.vnodes, name);
    let v: Vnode | undefined;
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const logFd = openSync(join(dir, 'exits.log'), constants.O_WRONLY | constants.O_CREAT | constants.O_APPEND, 0o600);
      let initPid: number;
      try {
        initPid = await spawnInit(range, logFd, name);
      } finally {
        closeSync(logFd);
      }
      const record: VnodeRecord = {
        name,
        key,
        initPid,
        initStartTime: startTimeOf(initPid) ?? '',
        range,
        createdAt: new Date().toISOString(),
        members: [],
      };
      v = this.wrap(record, 'creating');
      mkdirSync(v.hostPathRoot, { recursive: true, mode: 0o755 });
      // The vNode's root owns its private "/" for hostPath volumes.
      chownSync(v.hostPathRoot, range.start, range.start);
      this.vnodes.set(name, v);
      this.save(v);
      const made = v;
      made.followExits((r) => this.onExit(made, r));
      made.move('become-ready');
      return made;
    } catch (e) {
      if (v) {
        v.stopFollowing();
        v.move('abandon');
        this.vnodes.delete(name);
      }
      this.pool.release(range, this.owner(name));
      rmSync(dir, { recursive: true, force: true });
      throw e;
    }
  }

  async destroy(v: Vnode): Promise<void> {
    v.move('drain');
    v.stopFollowing();
    await this.beforeRemove(v);
    if (v.alive()) {
      try {
        process.kill(v.initPid, 'SIGKILL');
      } catch {
        /* already gone */
      }
      for (let i = 0; i < 200 && v.alive(); i++) await new Promise((r) => setTimeout(r, 10));
    }
    this.pool.release(v.record.range, this.owner(v.name));
    rmSync(v.dir, { recursive: true, force: true });
    rmSync(dirname(v.hostPathRoot), { recursive: true, force: true });
    rmSync(join(this.paths.state, 'vnodes', `${v.name}.json`), { force: true });
    this.vnodes.delete(v.name);
    v.move('remove');
  }
}

/** A short, readable, unique name: "ns-default", "pod-3f2a9c1b7d20", "ctr-k8s.io". */
export function vnodeName(key: string, taken: (n: string) => boolean): string {
  const [kind, rest = ''] = key.split('/', 2) as [string, string?];
  const base = `${kind}-${(kind === 'pod' ? rest.slice(0, 12) : rest).replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 48)}`;
  let name = base;
  for (let i = 2; taken(name); i++) name = `${base}-${i}`;
  return name;
}

/** A vNode's hostname (its UTS namespace's, which hostNetwork pods see): its name, cut to the kernel's 64 bytes. */
export const vnodeHostname = (name: string): string => name.slice(0, 64);

/** The vNode's init, in namespaces of its own; its hostname is vnodeHostname(name). */
function spawnInit(range: IdRange, logFd: number, name: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const args = ['--uid-base', String(range.start), '--gid-base', String(range.start), '--size', String(range.size), '--hostname', vnodeHostname(name)];
    const child = spawn(helperPath('vnode-init'), args, {
      stdio: ['ignore', 'pipe', 'pipe', logFd],
    });
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', (e) => reject(new VnodeError(`cannot start vnode-init: ${e.message}`)));
    child.on('close', (code) => {
      const pid = Number(out.trim());
      if (code === 0 && pid > 0) resolve(pid);
      else reject(new VnodeError(`vnode-init failed (exit ${code}): ${err.trim() || 'no output'}; check that user namespaces are enabled (vnode doctor)`));
    });
  });
}
