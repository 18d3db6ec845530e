// ttrpc framing: every message is a 10-byte header followed by `length` bytes.
//
//   0               4               8       9       10
//   +---------------+---------------+-------+-------+----------------+
//   | length (BE32) | stream (BE32) | type  | flags | payload ...    |
//   +---------------+---------------+-------+-------+----------------+
//
// `length` excludes the header. A message longer than MAX_MESSAGE_LENGTH is not
// read into memory: its bytes are skipped and the receiver answers the stream
// with RESOURCE_EXHAUSTED (containerd/ttrpc does the same).

export const HEADER_LENGTH = 10;
export const MAX_MESSAGE_LENGTH = 4 << 20;

export const MessageType = {
  Request: 0x1,
  Response: 0x2,
  Data: 0x3,
} as const;
export type MessageType = (typeof MessageType)[keyof typeof MessageType];

/** Flags of data/response frames (streaming; vnode sends none on unary calls). */
export const Flags = {
  RemoteClosed: 0x1,
  RemoteOpen: 0x2,
  NoData: 0x4,
} as const;

export interface FrameHeader {
  length: number;
  streamId: number;
  type: number;
  flags: number;
}

export interface Frame extends FrameHeader {
  payload: Uint8Array;
}

/** What the reader hands out: a whole frame, or the header of one it skipped because it was too long. */
export type ReadEvent = { kind: 'frame'; frame: Frame } | { kind: 'oversized'; header: FrameHeader };

export class OversizedMessageError extends Error {
  readonly code = 'VNODE_TTRPC_OVERSIZED';
  constructor(readonly length: number) {
    super(`message length ${length} exceeds maximum message size of ${MAX_MESSAGE_LENGTH}`);
    this.name = 'OversizedMessageError';
  }
}

export function encodeFrame(streamId: number, type: number, flags: number, payload: Uint8Array): Buffer {
  if (payload.length > MAX_MESSAGE_LENGTH) throw new OversizedMessageError(payload.length);
  const out = Buffer.allocUnsafe(HEADER_LENGTH + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.writeUInt32BE(streamId >>> 0, 4);
  out.writeUInt8(type, 8);
  out.writeUInt8(flags, 9);
  out.set(payload, HEADER_LENGTH);
  return out;
}

export function decodeHeader(b: Uint8Array, offset = 0): FrameHeader {
  const v = new DataView(b.buffer, b.byteOffset + offset, HEADER_LENGTH);
  return { length: v.getUint32(0), streamId: v.getUint32(4), type: v.getUint8(8), flags: v.getUint8(9) };
}

// Reader states: waiting for a header, collecting a body, skipping an oversized body.
const enum State {
  Header,
  Body,
  Discard,
}

/**
 * Incremental frame reader: feed it socket chunks in any split, get whole frames.
 * Chunks are kept in a list and joined only when a header or body is complete, so a
 * large message that arrives in many chunks costs one copy.
 */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private state = State.Header;
  private header: FrameHeader | undefined;
  private toDiscard = 0;

  constructor(private readonly maxLength = MAX_MESSAGE_LENGTH) {}

  /** Appends a chunk and returns every event it completes, in order. */
  push(chunk: Buffer): ReadEvent[] {
    const events: ReadEvent[] = [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    for (;;) {
      if (this.state === State.Header) {
        if (this.buffered < HEADER_LENGTH) break;
        const h = decodeHeader(this.take(HEADER_LENGTH));
        if (h.length > this.maxLength) {
          this.state = State.Discard;
          this.toDiscard = h.length;
          events.push({ kind: 'oversized', header: h });
        } else {
          this.header = h;
          this.state = State.Body;
        }
      } else if (this.state === State.Body) {
        const h = this.header!;
        if (this.buffered < h.length) break;
        const payload = h.length === 0 ? new Uint8Array(0) : this.take(h.length);
        this.state = State.Header;
        this.header = undefined;
        events.push({ kind: 'frame', frame: { ...h, payload } });
      } else {
        if (this.buffered === 0 && this.toDiscard > 0) break;
        const n = Math.min(this.toDiscard, this.buffered);
        if (n > 0) this.take(n);
        this.toDiscard -= n;
        if (this.toDiscard > 0) break;
        this.state = State.Header;
      }
    }
    return events;
  }

  /** Bytes received but not yet part of a complete frame. */
  get pending(): number {
    return this.buffered;
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.chunks[0]!;
        const k = Math.min(c.length, n - off);
        c.copy(out, off, 0, k);
        off += k;
        if (k === c.length) this.chunks.shift();
        else this.chunks[0] = c.subarray(k);
      }
    }
    this.buffered -= n;
    return out;
  }
}
