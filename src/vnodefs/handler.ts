// Answers FUSE requests: one synchronous function from request bytes to reply bytes.
// Generated files are rendered once per open (a snapshot, like procfs's seq files
// between reads) and served with direct I/O, so a size of 0 never truncates them.
import { vnodefsRequests, type VnodefsRequest } from './diagnostics.js';
import type { Logger } from '../log/index.js';
import { constants as C } from 'node:os';
import {
  DirentWriter,
  MalformedRequest,
  attrOut,
  body,
  cstring,
  decodeFh,
  decodeHeader,
  decodeInit,
  decodeOpenFlags,
  decodeRead,
  decodeWrite,
  entryOut,
  errorReply,
  initOut,
  okReply,
  openOut,
  statfsOut,
  writeOut,
  type Attr,
  type RequestHeader,
} from './codec.js';
import type { HostFiles } from './context.js';
import { VnodefsError } from './device.js';
import { vcpuCount } from './generators/cpus.js';
import { parseSysctlWrite } from './generators/sysctl.js';
import { DT_DIR, DT_REG, FOPEN_DIRECT_IO, InitFlag, MAX_WRITE, Op, PROTOCOL_MAJOR, PROTOCOL_MINOR, ROOT_ID } from './protocol.js';
import { Template, nodeIdOf, slotOf, splitNodeId, type TemplateEntry } from './tree.js';
import type { Vnode } from './vnode.js';

const E = C.errno;
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
/** Entry and attribute validity handed to the kernel, seconds. */
const VALID_SEC = 1;
/**
 * Names below a vNode's directory never change while the vNode is served (except the
 * cpuN directories, which follow the CPU limit), and a removed vNode's names become
 * unreachable with its own entry (VALID_SEC): the kernel may keep them long. Then the
 * bind mounts of a pod's later containers resolve without a request.
 */
const STABLE_ENTRY_SEC = 3600;
const O_ACCMODE = 3;

type Node = { kind: 'root' } | { kind: 'entry'; vnode: Vnode; entry: TemplateEntry };

/** An open file: the snapshot rendered at open, and what was opened. */
interface Handle {
  content: Buffer;
  vnode: Vnode;
  entry: TemplateEntry;
}

export interface HandlerStats {
  requests: number;
  errors: number;
  malformed: number;
  interrupts: number;
  openHandles: number;
}

function publishRequest(opcode: number, started: bigint, errno: number): void {
  const r: VnodefsRequest = { opcode, seconds: Number(process.hrtime.bigint() - started) / 1e9, errno };
  vnodefsRequests.publish(r);
}

export class Handler {
  private readonly vnodes = new Map<number, Vnode>();
  private readonly handles = new Map<number, Handle>();
  private nextFh = 1;
  private readonly mountedAt = Math.floor(Date.now() / 1000);
  initialized = false;
  readonly stats: HandlerStats = { requests: 0, errors: 0, malformed: 0, interrupts: 0, openHandles: 0 };

  /** Messages of unexpected failures already logged: a broken generator fails every read, the log says it once. */
  private readonly logged = new Set<string>();

  constructor(
    readonly template: Template,
    readonly host: HostFiles,
    readonly now: () => number = Date.now,
    private readonly log?: Logger,
  ) {}

  addVnode(v: Vnode): void {
    const other = this.vnodes.get(v.slot);
    if (other && other.id !== v.id) throw new VnodefsError('VNODEFS_SLOT_COLLISION', `vNode ids ${other.id} and ${v.id} hash to the same node-id slot ${v.slot}`);
    this.vnodes.set(v.slot, v);
  }

  removeVnode(v: Vnode): void {
    if (this.vnodes.get(v.slot) === v) this.vnodes.delete(v.slot);
  }

  listVnodes(): Vnode[] {
    return [...this.vnodes.values()];
  }

  /** Handles one request; returns the reply, or null when the protocol wants none. */
  handle(buf: Buffer, n: number): Buffer | null {
    this.stats.requests++;
    let h: RequestHeader;
    try {
      h = decodeHeader(buf, n);
    } catch {
      this.stats.malformed++;
      // Without a trustworthy header there is nobody to answer.
      if (n >= 16) return errorReply(buf.readBigUInt64LE(8), E.EINVAL);
      return null;
    }
    const started = vnodefsRequests.hasSubscribers ? process.hrtime.bigint() : 0n;
    try {
      const reply = this.dispatch(h, body(buf, h));
      const status = reply === null ? 0 : reply.readInt32LE(4);
      if (status !== 0) this.stats.errors++;
      if (started) publishRequest(h.opcode, started, -status);
      return reply;
    } catch (err) {
      this.stats.errors++;
      if (err instanceof MalformedRequest) {
        this.stats.malformed++;
        return errorReply(h.unique, E.EINVAL);
      }
      this.logOnce(h, err);
      return errorReply(h.unique, E.EIO);
    }
  }

  private logOnce(h: RequestHeader, err: unknown): void {
    if (!this.log) return;
    const msg = (err as Error)?.message ?? String(err);
    if (this.logged.has(msg) || this.logged.size >= 100) return;
    this.logged.add(msg);
    this.log.warn({ err, opcode: h.opcode, nodeid: String(h.nodeid) }, `vnodefs: request (opcode ${h.opcode}) failed with EIO: ${msg}`);
  }

  private dispatch(h: RequestHeader, b: Buffer): Buffer | null {
    const u = h.unique;
    switch (h.opcode) {
      case Op.INIT:
        return this.init(u, b);
      case Op.INTERRUPT:
        this.stats.interrupts++;
        return null;
      case Op.FORGET:
      case Op.BATCH_FORGET:
        // Every request is answered before the next is read, so an interrupt always
        // arrives for a request that is already complete: nothing to do, no reply.
        return null;
      case Op.DESTROY:
        return okReply(u, null);
      case Op.LOOKUP:
        return this.lookup(h, cstring(b));
      case Op.GETATTR: {
        const node = this.node(h.nodeid);
        return node ? okReply(u, attrOut(this.attr(h.nodeid, node, h.pid), VALID_SEC)) : errorReply(u, E.ENOENT);
      }
      case Op.OPEN:
        return this.open(h, decodeOpenFlags(b));
      case Op.READ:
        return this.read(h, b);
      case Op.RELEASE:
        this.handles.delete(decodeFh(b, 'RELEASE'));
        this.stats.openHandles = this.handles.size;
        return okReply(u, null);
      case Op.FLUSH:
        // Nothing to flush: ENOSYS makes the kernel stop sending FLUSH on every close.
        return errorReply(u, E.ENOSYS);
      case Op.OPENDIR: {
        const node = this.node(h.nodeid);
        if (!node) return errorReply(u, E.ENOENT);
        if (node.kind === 'entry' && !node.entry.dir) return errorReply(u, E.ENOTDIR);
        return okReply(u, openOut(0, 0));
      }
      case Op.READDIR:
        return this.readdir(h, b);
      case Op.RELEASEDIR:
        return okReply(u, null);
      case Op.STATFS:
        return okReply(u, statfsOut(this.template.entries.length * Math.max(1, this.vnodes.size)));
      case Op.ACCESS: {
        const node = this.node(h.nodeid);
        if (!node) return errorReply(u, E.ENOENT);
        const mask = b.length >= 4 ? b.readUInt32LE(0) : 0;
        const writable = node.kind === 'entry' && node.entry.sysctl !== undefined && node.vnode.mayWrite(h.uid);
        return mask & 2 && !writable ? errorReply(u, E.EACCES) : okReply(u, null);
      }
      case Op.SETATTR: {
        // open(O_TRUNC) of a writable sysctl arrives as a truncation: nothing to do.
        const node = this.node(h.nodeid);
        if (!node) return errorReply(u, E.ENOENT);
        if (node.kind === 'entry' && node.entry.sysctl && node.vnode.mayWrite(h.uid)) return okReply(u, attrOut(this.attr(h.nodeid, node, h.pid), VALID_SEC));
        return errorReply(u, E.EPERM);
      }
      case Op.WRITE:
        return this.write(h, b);
      case Op.MKDIR:
      case Op.MKNOD:
      case Op.CREATE:
      case Op.SYMLINK:
      case Op.LINK:
      case Op.UNLINK:
      case Op.RMDIR:
      case Op.RENAME:
      case Op.SETXATTR:
      case Op.REMOVEXATTR:
        return errorReply(u, E.EACCES);
      default:
        // GETXATTR, LISTXATTR, FSYNC, POLL, LSEEK, STATX, locks, and opcodes we have
        // never heard of: ENOSYS tells the kernel not to ask again where it can.
        return errorReply(u, E.ENOSYS);
    }
  }

  private init(u: bigint, b: Buffer): Buffer {
    const k = decodeInit(b);
    if (k.major < PROTOCOL_MAJOR) return errorReply(u, E.EPROTO);
    this.initialized = true;
    const wanted = InitFlag.ASYNC_READ | InitFlag.BIG_WRITES | InitFlag.PARALLEL_DIROPS | InitFlag.MAX_PAGES;
    return okReply(
      u,
      initOut({
        major: PROTOCOL_MAJOR,
        minor: k.major > PROTOCOL_MAJOR ? PROTOCOL_MINOR : Math.min(k.minor, PROTOCOL_MINOR),
        maxReadahead: k.maxReadahead,
        flags: k.flags & wanted,
        maxBackground: 64,
        congestionThreshold: 48,
        maxWrite: MAX_WRITE,
        timeGran: 1,
        maxPages: MAX_WRITE / 4096,
      }),
    );
  }

  /** The node behind a node id, or undefined if it does not (or no longer) exist. */
  private node(nodeid: number): Node | undefined {
    if (nodeid === ROOT_ID) return { kind: 'root' };
    if (nodeid <= 0) return undefined;
    const { slot, index } = splitNodeId(nodeid);
    const vnode = this.vnodes.get(slot);
    const entry = this.template.get(index);
    if (!vnode || !entry) return undefined;
    return { kind: 'entry', vnode, entry };
  }

  private visible(vnode: Vnode, e: TemplateEntry): boolean {
    if (e.cpu === undefined || !e.dir) return true;
    return e.cpu < vcpuCount(vnode.context(0, this.host, this.now()));
  }

  private attr(nodeid: number, node: Node, pid = 0): Attr {
    const dir = node.kind === 'root' || node.entry.dir;
    const nchildren = node.kind === 'root' ? this.vnodes.size : node.entry.children.length;
    return {
      ino: nodeid,
      size: this.sizeOf(node, pid),
      mode: dir ? S_IFDIR | 0o555 : S_IFREG | (node.entry.sysctl ? 0o644 : 0o444),
      nlink: dir ? 2 + nchildren : 1,
      uid: 0,
      gid: 0,
      mtimeSec: node.kind === 'root' ? this.mountedAt : Math.floor(node.vnode.spec.startedAt / 1000),
    };
  }

  /**
   * The size of a generated file as the reader would read it now. Reads are direct I/O,
   * but Linux 6.5 up to the fix "fuse: use copy_splice_read for FOPEN_DIRECT_IO" serves
   * splice and sendfile (busybox cat) from the page cache, bounded by this size: with 0
   * they read nothing. The kernel learns the size at LOOKUP and GETATTR only, so a file
   * whose length changes later (uptime gaining a digit) can still be cut short there.
   */
  private sizeOf(node: Node, pid: number): number {
    if (node.kind === 'root' || node.entry.dir || !node.entry.gen) return 0;
    try {
      return this.render(node.vnode, node.entry, pid).length;
    } catch {
      return 0;
    }
  }

  private lookup(h: RequestHeader, name: string): Buffer {
    const parent = this.node(h.nodeid);
    if (!parent) return errorReply(h.unique, E.ENOENT);
    let nodeid: number;
    let node: Node;
    let entrySec = VALID_SEC;
    if (parent.kind === 'root') {
      const v = this.vnodes.get(slotOf(name));
      if (!v || v.id !== name) return errorReply(h.unique, E.ENOENT);
      nodeid = nodeIdOf(v.slot, 0);
      node = { kind: 'entry', vnode: v, entry: this.template.get(0)! };
    } else {
      if (!parent.entry.dir) return errorReply(h.unique, E.ENOTDIR);
      const e = this.template.child(parent.entry.index, name);
      if (!e || !this.visible(parent.vnode, e)) return errorReply(h.unique, E.ENOENT);
      nodeid = nodeIdOf(parent.vnode.slot, e.index);
      node = { kind: 'entry', vnode: parent.vnode, entry: e };
      if (e.cpu === undefined) entrySec = STABLE_ENTRY_SEC;
    }
    return okReply(h.unique, entryOut(this.attr(nodeid, node, h.pid), entrySec, VALID_SEC));
  }

  private render(vnode: Vnode, entry: TemplateEntry, pid: number): Buffer {
    const view = vnode.viewOf(pid);
    const make = (): Buffer => Buffer.from(entry.gen!(vnode.contextOf(view, this.host, this.now()), entry.cpu ?? 0), 'latin1');
    // sysctls read back a write at once; generated files may be served from the view's cache
    return entry.sysctl ? make() : view.cached(entry.index, make);
  }

  private open(h: RequestHeader, flags: number): Buffer {
    const node = this.node(h.nodeid);
    if (!node) return errorReply(h.unique, E.ENOENT);
    if (node.kind === 'root' || node.entry.dir) return errorReply(h.unique, E.EISDIR);
    if ((flags & O_ACCMODE) !== 0 /* O_RDONLY */ && !(node.entry.sysctl && node.vnode.mayWrite(h.uid))) return errorReply(h.unique, E.EACCES);
    const fh = this.nextFh++;
    this.handles.set(fh, { content: this.render(node.vnode, node.entry, h.pid), vnode: node.vnode, entry: node.entry });
    this.stats.openHandles = this.handles.size;
    return okReply(h.unique, openOut(fh, FOPEN_DIRECT_IO));
  }

  private read(h: RequestHeader, b: Buffer): Buffer {
    const r = decodeRead(b);
    const content = this.handleOf(h, r.fh)?.content;
    if (!content) return errorReply(h.unique, E.EBADF);
    const start = Math.min(r.offset, content.length);
    return okReply(h.unique, content.subarray(start, Math.min(content.length, start + r.size)));
  }

  /** The open file `fh`; one opened before a server restart is rendered afresh from the node id. */
  private handleOf(h: RequestHeader, fh: number): Handle | undefined {
    let handle = this.handles.get(fh);
    if (handle) return handle;
    const node = this.node(h.nodeid);
    if (!node || node.kind === 'root' || node.entry.dir) return undefined;
    handle = { content: this.render(node.vnode, node.entry, h.pid), vnode: node.vnode, entry: node.entry };
    this.handles.set(fh, handle);
    this.stats.openHandles = this.handles.size;
    return handle;
  }

  /** A write to a per-vNode sysctl: validated like the kernel would, kept for this vNode only. */
  private write(h: RequestHeader, b: Buffer): Buffer {
    const w = decodeWrite(b);
    const handle = this.handleOf(h, w.fh);
    const name = handle?.entry.sysctl;
    if (!handle || !name) return errorReply(h.unique, E.EBADF);
    if (!handle.vnode.mayWrite(h.uid)) return errorReply(h.unique, E.EACCES);
    if (w.offset !== 0) return errorReply(h.unique, E.EINVAL);
    const value = parseSysctlWrite(this.host.proc(`sys/${name}`) ?? '', w.data.toString('latin1'));
    if (value === undefined) return errorReply(h.unique, E.EINVAL);
    handle.vnode.sysctls.set(name, value);
    return okReply(h.unique, writeOut(w.size));
  }

  private readdir(h: RequestHeader, b: Buffer): Buffer {
    const node = this.node(h.nodeid);
    if (!node) return errorReply(h.unique, E.ENOENT);
    const r = decodeRead(b);
    const list: { ino: number; type: number; name: string }[] = [
      { ino: h.nodeid, type: DT_DIR, name: '.' },
      { ino: ROOT_ID, type: DT_DIR, name: '..' },
    ];
    if (node.kind === 'root') {
      for (const v of this.vnodes.values()) list.push({ ino: nodeIdOf(v.slot, 0), type: DT_DIR, name: v.id });
    } else {
      if (!node.entry.dir) return errorReply(h.unique, E.ENOTDIR);
      for (const i of node.entry.children) {
        const e = this.template.get(i)!;
        if (!this.visible(node.vnode, e)) continue;
        list.push({ ino: nodeIdOf(node.vnode.slot, i), type: e.dir ? DT_DIR : DT_REG, name: e.name });
      }
    }
    const w = new DirentWriter(r.size);
    for (let i = r.offset; i < list.length; i++) {
      const d = list[i]!;
      if (!w.add(d.ino, i + 1, d.type, d.name)) break;
    }
    return okReply(h.unique, w.finish());
  }
}
