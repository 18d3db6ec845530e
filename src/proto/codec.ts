// encode/decode by full message name over the codecs generated from proto/ (see
// docs/protocol.md and scripts/proto-gen.mjs). The plain TypeScript objects are
// ts-proto's: camelCase field names, 64-bit integers as bigint, enums as numbers,
// google.protobuf.Timestamp as Date, google.protobuf.Any as { typeUrl, value }, maps
// as records. encode takes partial objects (unset = proto3 default); decode fills the
// proto3 defaults in and leaves absent message fields out.
import { messageCodecs, type MessageCodec } from './gen/registry.js';
import type { Any } from './gen/google/protobuf/any.js';

export type { Any } from './gen/google/protobuf/any.js';
export type { MessageCodec } from './gen/registry.js';

/** A message name the registry does not know (code `PROTO_UNKNOWN_TYPE`). */
export class ProtoError extends Error {
  readonly code = 'PROTO_UNKNOWN_TYPE';
  constructor(readonly typeName: string) {
    super(`protobuf: no message type ${typeName} in proto/`);
    this.name = 'ProtoError';
  }
}

/** The generated codec of a message, by full name, e.g. "containerd.task.v2.CreateTaskRequest". */
export function messageType(fullName: string): MessageCodec {
  const c = messageCodecs.get(fullName);
  if (!c) throw new ProtoError(fullName);
  return c;
}

/** True when the registry knows a message of that full name. */
export function hasMessageType(fullName: string): boolean {
  return messageCodecs.has(fullName);
}

let names: Map<MessageCodec, string> | undefined;
/** The full name of a generated codec (e.g. a service definition's requestType). */
export function messageName(codec: MessageCodec): string | undefined {
  names ??= new Map([...messageCodecs].map(([n, c]) => [c, n]));
  return names.get(codec);
}

export function encode<T extends object>(fullName: string, value: T): Uint8Array {
  const c = messageType(fullName);
  return c.encode(c.fromPartial(value)).finish();
}

export function decode<T>(fullName: string, bytes: Uint8Array): T {
  return plain(messageType(fullName).decode(bytes)) as T;
}

/** Packs a message into an Any whose type URL is the message's full name. */
export function packAny<T extends object>(fullName: string, value: T): Any {
  return { typeUrl: fullName, value: encode(fullName, value) };
}

/** The message name an Any carries ("types.containerd.io/x.Y" and "x.Y" both give "x.Y"). */
export function anyTypeName(any: Any): string {
  const i = any.typeUrl.lastIndexOf('/');
  return i >= 0 ? any.typeUrl.slice(i + 1) : any.typeUrl;
}

/** Decodes an Any with the registry; throws ProtoError if the type is unknown. */
export function unpackAny<T>(any: Any): T {
  return decode<T>(anyTypeName(any), any.value);
}

export function dateToTimestamp(d: Date): { seconds: bigint; nanos: number } {
  const ms = d.getTime();
  const seconds = Math.floor(ms / 1000);
  return { seconds: BigInt(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
}

export function timestampToDate(ts: { seconds: bigint | number; nanos: number }): Date {
  return new Date(Number(ts.seconds) * 1000 + Math.floor(ts.nanos / 1_000_000));
}

// Decoded messages as plain data: absent message fields are left out rather than
// present as undefined, and bytes are plain Uint8Arrays (the reader hands out views of
// its input, which is a Buffer when the input was).
function plain(v: unknown): unknown {
  if (v === null || typeof v !== 'object' || v instanceof Date) return v;
  if (v instanceof Uint8Array) return v.constructor === Uint8Array ? v : new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = plain(v[i]);
    return v;
  }
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    if (o[k] === undefined) delete o[k];
    else o[k] = plain(o[k]);
  }
  return o;
}
