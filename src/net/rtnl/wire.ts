// Netlink framing (include/uapi/linux/netlink.h): a message is a 16-byte nlmsghdr
// {len u32, type u16, flags u16, seq u32, pid u32} and a payload, padded to 4 bytes;
// attributes are {len u16, type u16} and a value, padded to 4 bytes. Integers are in
// host byte order (little-endian on the machines vnode runs on). Pure.

export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_DUMP_INTR = 0x10;
export const NLM_F_DUMP = 0x300;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_CREATE = 0x400;
/** In an NLMSG_ERROR: the original request was not echoed back whole / TLVs follow. */
const NLM_F_CAPPED = 0x100;
const NLM_F_ACK_TLVS = 0x200;
const NLMSGERR_ATTR_MSG = 1;

const HDR = 16;
const NLA_TYPE_MASK = 0x3fff; // without NLA_F_NESTED and NLA_F_NET_BYTEORDER

const align4 = (n: number) => (n + 3) & ~3;

export interface NlMessage {
  type: number;
  flags: number;
  seq: number;
  /** The payload: the family header (ifinfomsg, …) and its attributes. */
  body: Buffer;
}

/** One attribute to encode: a type and a ready value, or nested attributes. */
export type Attr = [type: number, value: Buffer | Attr[]];

export function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
}

export function cstring(s: string): Buffer {
  return Buffer.concat([Buffer.from(s), Buffer.alloc(1)]);
}

export function encodeAttrs(attrs: Attr[]): Buffer {
  const parts: Buffer[] = [];
  for (const [type, value] of attrs) {
    const data = Buffer.isBuffer(value) ? value : encodeAttrs(value);
    const head = Buffer.alloc(4);
    head.writeUInt16LE(4 + data.length, 0);
    head.writeUInt16LE(Buffer.isBuffer(value) ? type : type | 0x8000, 2);
    parts.push(head, data, Buffer.alloc(align4(data.length) - data.length));
  }
  return Buffer.concat(parts);
}

/** Attributes of `buf` by type (the last one wins for a repeated type). */
export function decodeAttrs(buf: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  let off = 0;
  while (off + 4 <= buf.length) {
    const len = buf.readUInt16LE(off);
    if (len < 4 || off + len > buf.length) break;
    out.set(buf.readUInt16LE(off + 2) & NLA_TYPE_MASK, buf.subarray(off + 4, off + len));
    off += align4(len);
  }
  return out;
}

/** A request message: header, family header, attributes. */
export function encodeMessage(type: number, flags: number, seq: number, header: Buffer, attrs: Attr[] = []): Buffer {
  const body = Buffer.concat([header, Buffer.alloc(align4(header.length) - header.length), encodeAttrs(attrs)]);
  const h = Buffer.alloc(HDR);
  h.writeUInt32LE(HDR + body.length, 0);
  h.writeUInt16LE(type, 4);
  h.writeUInt16LE(flags, 6);
  h.writeUInt32LE(seq, 8);
  h.writeUInt32LE(0, 12);
  return Buffer.concat([h, body]);
}

/** The messages of one received datagram. */
export function decodeMessages(buf: Buffer): NlMessage[] {
  const out: NlMessage[] = [];
  let off = 0;
  while (off + HDR <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len < HDR || off + len > buf.length) throw new Error(`netlink: truncated message (${len} bytes at ${off} of ${buf.length})`);
    out.push({ type: buf.readUInt16LE(off + 4), flags: buf.readUInt16LE(off + 6), seq: buf.readUInt32LE(off + 8), body: buf.subarray(off + HDR, off + len) });
    off += align4(len);
  }
  return out;
}

/** An NLMSG_ERROR's errno (0: an ack) and the kernel's extended-ack message, if any. */
export function decodeError(m: NlMessage): { errno: number; message?: string } {
  const errno = -m.body.readInt32LE(0) || 0; // an ack is 0, not -0
  if (!(m.flags & NLM_F_ACK_TLVS)) return { errno };
  // struct nlmsgerr: error, then the request's header, then (unless capped) its payload
  const reqLen = m.body.length >= 8 ? m.body.readUInt32LE(4) : HDR;
  const tlvAt = 4 + (m.flags & NLM_F_CAPPED ? HDR : align4(reqLen));
  const msg = decodeAttrs(m.body.subarray(tlvAt)).get(NLMSGERR_ATTR_MSG);
  return msg ? { errno, message: cstringOf(msg) } : { errno };
}

/** An NLMSG_DONE's status (negative errno when the dump failed). */
export function doneStatus(m: NlMessage): number {
  return m.body.length >= 4 ? m.body.readInt32LE(0) : 0;
}

export function cstringOf(b: Buffer): string {
  const end = b.indexOf(0);
  return b.subarray(0, end < 0 ? b.length : end).toString();
}
