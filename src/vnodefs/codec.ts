// Decoding of FUSE requests and encoding of replies. Pure functions over Buffers:
// no I/O here, so the whole wire format is unit-testable.
import { InHeader, Size } from './protocol.js';

export interface RequestHeader {
  len: number;
  opcode: number;
  unique: bigint;
  nodeid: number;
  uid: number;
  gid: number;
  pid: number;
}

export class MalformedRequest extends Error {
  readonly code = 'VNODEFS_MALFORMED';
}

/**
 * Reads the header of one request from the first `n` bytes of `buf`.
 * Throws MalformedRequest if the byte count and the declared length disagree.
 */
export function decodeHeader(buf: Buffer, n: number): RequestHeader {
  if (n < Size.IN_HEADER) throw new MalformedRequest(`short request: ${n} bytes`);
  const len = buf.readUInt32LE(InHeader.LEN);
  if (len !== n) throw new MalformedRequest(`length field ${len} != bytes read ${n}`);
  const nodeid = buf.readBigUInt64LE(InHeader.NODEID);
  return {
    len,
    opcode: buf.readUInt32LE(InHeader.OPCODE),
    unique: buf.readBigUInt64LE(InHeader.UNIQUE),
    // Node ids we hand out stay below 2^53; larger ones are unknown to us anyway.
    nodeid: nodeid > BigInt(Number.MAX_SAFE_INTEGER) ? -1 : Number(nodeid),
    uid: buf.readUInt32LE(InHeader.UID),
    gid: buf.readUInt32LE(InHeader.GID),
    pid: buf.readUInt32LE(InHeader.PID),
  };
}

/** Body of the request (after the header and any extensions). */
export function body(buf: Buffer, h: RequestHeader): Buffer {
  const ext = buf.readUInt16LE(InHeader.TOTAL_EXTLEN) * 8;
  return buf.subarray(Size.IN_HEADER, h.len - ext);
}

/** A NUL-terminated name at the start of `b`. */
export function cstring(b: Buffer, start = 0): string {
  const end = b.indexOf(0, start);
  if (end < 0) throw new MalformedRequest('name without NUL');
  return b.toString('utf8', start, end);
}

export function need(b: Buffer, size: number, what: string): void {
  if (b.length < size) throw new MalformedRequest(`${what}: body ${b.length} < ${size} bytes`);
}

/** Reply with an error only: `errno` is the positive errno value. */
export function errorReply(unique: bigint, errno: number): Buffer {
  const out = Buffer.alloc(Size.OUT_HEADER);
  out.writeUInt32LE(Size.OUT_HEADER, 0);
  out.writeInt32LE(-errno, 4);
  out.writeBigUInt64LE(unique, 8);
  return out;
}

/** Success reply carrying `payload` after the header. */
export function okReply(unique: bigint, payload: Buffer | null): Buffer {
  const plen = payload?.length ?? 0;
  const out = Buffer.allocUnsafe(Size.OUT_HEADER + plen);
  out.writeUInt32LE(Size.OUT_HEADER + plen, 0);
  out.writeInt32LE(0, 4);
  out.writeBigUInt64LE(unique, 8);
  if (payload) payload.copy(out, Size.OUT_HEADER);
  return out;
}

export interface Attr {
  ino: number;
  size: number;
  mode: number; // including S_IFDIR / S_IFREG
  nlink: number;
  uid: number;
  gid: number;
  mtimeSec: number;
}

function writeAttr(out: Buffer, at: number, a: Attr): void {
  out.writeBigUInt64LE(BigInt(a.ino), at);
  out.writeBigUInt64LE(BigInt(a.size), at + 8);
  out.writeBigUInt64LE(BigInt(Math.ceil(a.size / 512)), at + 16);
  const t = BigInt(a.mtimeSec);
  out.writeBigUInt64LE(t, at + 24); // atime
  out.writeBigUInt64LE(t, at + 32); // mtime
  out.writeBigUInt64LE(t, at + 40); // ctime
  out.writeUInt32LE(0, at + 48);
  out.writeUInt32LE(0, at + 52);
  out.writeUInt32LE(0, at + 56);
  out.writeUInt32LE(a.mode, at + 60);
  out.writeUInt32LE(a.nlink, at + 64);
  out.writeUInt32LE(a.uid, at + 68);
  out.writeUInt32LE(a.gid, at + 72);
  out.writeUInt32LE(0, at + 76); // rdev
  out.writeUInt32LE(4096, at + 80); // blksize
  out.writeUInt32LE(0, at + 84); // flags
}

/** fuse_entry_out (a LOOKUP reply): node id, generation; the kernel caches the name for `entrySec`, the attributes for `attrSec`. */
export function entryOut(a: Attr, entrySec: number, attrSec = entrySec): Buffer {
  const out = Buffer.alloc(Size.ENTRY_OUT);
  out.writeBigUInt64LE(BigInt(a.ino), 0);
  out.writeBigUInt64LE(0n, 8); // generation
  out.writeBigUInt64LE(BigInt(entrySec), 16);
  out.writeBigUInt64LE(BigInt(attrSec), 24);
  writeAttr(out, 40, a);
  return out;
}

/** A negative entry (nodeid 0): the kernel caches "absent" for `validSec`. */
export function negativeEntryOut(validSec: number): Buffer {
  const out = Buffer.alloc(Size.ENTRY_OUT);
  out.writeBigUInt64LE(BigInt(validSec), 16);
  return out;
}

export function attrOut(a: Attr, validSec: number): Buffer {
  const out = Buffer.alloc(Size.ATTR_OUT);
  out.writeBigUInt64LE(BigInt(validSec), 0);
  writeAttr(out, 16, a);
  return out;
}

export function openOut(fh: number, openFlags: number): Buffer {
  const out = Buffer.alloc(Size.OPEN_OUT);
  out.writeBigUInt64LE(BigInt(fh), 0);
  out.writeUInt32LE(openFlags, 8);
  return out;
}

export function writeOut(size: number): Buffer {
  const out = Buffer.alloc(Size.WRITE_OUT);
  out.writeUInt32LE(size, 0);
  return out;
}

export function statfsOut(files: number): Buffer {
  const out = Buffer.alloc(Size.STATFS_OUT);
  out.writeBigUInt64LE(BigInt(files), 24);
  out.writeUInt32LE(4096, 40); // bsize
  out.writeUInt32LE(255, 44); // namelen
  out.writeUInt32LE(4096, 48); // frsize
  return out;
}

export interface InitIn {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
}

export function decodeInit(b: Buffer): InitIn {
  need(b, Size.INIT_IN_MIN, 'INIT');
  return { major: b.readUInt32LE(0), minor: b.readUInt32LE(4), maxReadahead: b.readUInt32LE(8), flags: b.readUInt32LE(12) };
}

export interface InitOut {
  major: number;
  minor: number;
  maxReadahead: number;
  flags: number;
  maxBackground: number;
  congestionThreshold: number;
  maxWrite: number;
  timeGran: number;
  maxPages: number;
}

export function initOut(o: InitOut): Buffer {
  const out = Buffer.alloc(Size.INIT_OUT);
  out.writeUInt32LE(o.major, 0);
  out.writeUInt32LE(o.minor, 4);
  out.writeUInt32LE(o.maxReadahead, 8);
  out.writeUInt32LE(o.flags >>> 0, 12);
  out.writeUInt16LE(o.maxBackground, 16);
  out.writeUInt16LE(o.congestionThreshold, 18);
  out.writeUInt32LE(o.maxWrite, 20);
  out.writeUInt32LE(o.timeGran, 24);
  out.writeUInt16LE(o.maxPages, 28);
  return out;
}

export interface ReadIn {
  fh: number;
  offset: number;
  size: number;
}

export function decodeRead(b: Buffer): ReadIn {
  need(b, Size.READ_IN, 'READ');
  return { fh: Number(b.readBigUInt64LE(0)), offset: Number(b.readBigUInt64LE(8)), size: b.readUInt32LE(16) };
}

export interface WriteIn extends ReadIn {
  data: Buffer;
}

export function decodeWrite(b: Buffer): WriteIn {
  need(b, Size.WRITE_IN, 'WRITE');
  const size = b.readUInt32LE(16);
  if (b.length < Size.WRITE_IN + size) throw new MalformedRequest('WRITE: data shorter than size');
  return { fh: Number(b.readBigUInt64LE(0)), offset: Number(b.readBigUInt64LE(8)), size, data: b.subarray(Size.WRITE_IN, Size.WRITE_IN + size) };
}

export function decodeOpenFlags(b: Buffer): number {
  need(b, Size.OPEN_IN, 'OPEN');
  return b.readUInt32LE(0);
}

export function decodeFh(b: Buffer, what: string): number {
  need(b, 8, what);
  return Number(b.readBigUInt64LE(0));
}

/** Appends one fuse_dirent; returns false (and writes nothing) if it does not fit in `max`. */
export class DirentWriter {
  private readonly parts: Buffer[] = [];
  private used = 0;
  constructor(private readonly max: number) {}

  add(ino: number, nextOffset: number, type: number, name: string): boolean {
    const nameBytes = Buffer.from(name, 'utf8');
    const len = Size.DIRENT_HEADER + nameBytes.length;
    const padded = (len + 7) & ~7;
    if (this.used + padded > this.max) return false;
    const d = Buffer.alloc(padded);
    d.writeBigUInt64LE(BigInt(ino), 0);
    d.writeBigUInt64LE(BigInt(nextOffset), 8);
    d.writeUInt32LE(nameBytes.length, 16);
    d.writeUInt32LE(type, 20);
    nameBytes.copy(d, Size.DIRENT_HEADER);
    this.parts.push(d);
    this.used += padded;
    return true;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts, this.used);
  }
}
