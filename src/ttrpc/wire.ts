// The ttrpc envelope messages, encoded by hand with protobufjs' minimal runtime so
// that the transport does not need the schema registry (the shim's `start` path
// talks ttrpc without loading any .proto).
//
//   Request  { string service = 1; string method = 2; bytes payload = 3;
//              int64 timeout_nano = 4; repeated KeyValue metadata = 5; }
//   KeyValue { string key = 1; string value = 2; }
//   Response { google.rpc.Status status = 1; bytes payload = 2; }
//   google.rpc.Status { int32 code = 1; string message = 2; repeated google.protobuf.Any details = 3; }
//   google.protobuf.Any { string type_url = 1; bytes value = 2; }
import pb from 'protobufjs/minimal.js';
import type { AnyMessage, Status } from './status.js';

const { Reader, Writer } = pb;
type Reader = InstanceType<typeof pb.Reader>;
type Writer = InstanceType<typeof pb.Writer>;

export interface KeyValue {
  key: string;
  value: string;
}

export interface Request {
  service: string;
  method: string;
  payload: Uint8Array;
  /** 0 = no timeout. */
  timeoutNano: bigint;
  metadata: KeyValue[];
}

export interface Response {
  /** Absent on some peers for success; treat absent as OK. */
  status?: Status;
  payload: Uint8Array;
}

// Wire types.
const VARINT = 0;
const LEN = 2;
const tag = (field: number, wt: number) => ((field << 3) | wt) >>> 0;

export function encodeRequest(r: Request): Uint8Array {
  const w = Writer.create();
  if (r.service) w.uint32(tag(1, LEN)).string(r.service);
  if (r.method) w.uint32(tag(2, LEN)).string(r.method);
  if (r.payload.length) w.uint32(tag(3, LEN)).bytes(r.payload);
  if (r.timeoutNano !== 0n) w.uint32(tag(4, VARINT)).int64(r.timeoutNano.toString());
  for (const kv of r.metadata) {
    w.uint32(tag(5, LEN)).fork();
    if (kv.key) w.uint32(tag(1, LEN)).string(kv.key);
    if (kv.value) w.uint32(tag(2, LEN)).string(kv.value);
    w.ldelim();
  }
  return w.finish();
}

export function decodeRequest(b: Uint8Array): Request {
  const r = Reader.create(b);
  const out: Request = { service: '', method: '', payload: new Uint8Array(0), timeoutNano: 0n, metadata: [] };
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        out.service = r.string();
        break;
      case 2:
        out.method = r.string();
        break;
      case 3:
        out.payload = r.bytes();
        break;
      case 4:
        out.timeoutNano = BigInt(r.int64().toString());
        break;
      case 5:
        out.metadata.push(decodeKeyValue(r, r.uint32()));
        break;
      default:
        r.skipType(t & 7);
    }
  }
  return out;
}

function decodeKeyValue(r: Reader, len: number): KeyValue {
  const end = r.pos + len;
  const kv: KeyValue = { key: '', value: '' };
  while (r.pos < end) {
    const t = r.uint32();
    if (t >>> 3 === 1) kv.key = r.string();
    else if (t >>> 3 === 2) kv.value = r.string();
    else r.skipType(t & 7);
  }
  return kv;
}

export function encodeResponse(resp: Response): Uint8Array {
  const w = Writer.create();
  if (resp.status) {
    w.uint32(tag(1, LEN)).fork();
    writeStatus(w, resp.status);
    w.ldelim();
  }
  if (resp.payload.length) w.uint32(tag(2, LEN)).bytes(resp.payload);
  return w.finish();
}

export function decodeResponse(b: Uint8Array): Response {
  const r = Reader.create(b);
  const out: Response = { payload: new Uint8Array(0) };
  while (r.pos < r.len) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        out.status = readStatus(r, r.uint32());
        break;
      case 2:
        out.payload = r.bytes();
        break;
      default:
        r.skipType(t & 7);
    }
  }
  return out;
}

export function encodeStatus(s: Status): Uint8Array {
  const w = Writer.create();
  writeStatus(w, s);
  return w.finish();
}

export function decodeStatus(b: Uint8Array): Status {
  const r = Reader.create(b);
  return readStatus(r, b.length);
}

function writeStatus(w: Writer, s: Status): void {
  if (s.code) w.uint32(tag(1, VARINT)).int32(s.code);
  if (s.message) w.uint32(tag(2, LEN)).string(s.message);
  for (const d of s.details) {
    w.uint32(tag(3, LEN)).fork();
    if (d.typeUrl) w.uint32(tag(1, LEN)).string(d.typeUrl);
    if (d.value.length) w.uint32(tag(2, LEN)).bytes(d.value);
    w.ldelim();
  }
}

function readStatus(r: Reader, len: number): Status {
  const end = r.pos + len;
  const s: Status = { code: 0, message: '', details: [] };
  while (r.pos < end) {
    const t = r.uint32();
    switch (t >>> 3) {
      case 1:
        s.code = r.int32();
        break;
      case 2:
        s.message = r.string();
        break;
      case 3:
        s.details.push(readAny(r, r.uint32()));
        break;
      default:
        r.skipType(t & 7);
    }
  }
  return s;
}

function readAny(r: Reader, len: number): AnyMessage {
  const end = r.pos + len;
  const a: AnyMessage = { typeUrl: '', value: new Uint8Array(0) };
  while (r.pos < end) {
    const t = r.uint32();
    if (t >>> 3 === 1) a.typeUrl = r.string();
    else if (t >>> 3 === 2) a.value = r.bytes();
    else r.skipType(t & 7);
  }
  return a;
}
