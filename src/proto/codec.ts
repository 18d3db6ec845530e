// The schema registry and the codec between wire bytes and the plain TypeScript
// objects of this component: field names in camelCase, 64-bit integers as bigint,
// enums as numbers, google.protobuf.Timestamp as Date, google.protobuf.Any as
// { typeUrl, value }, maps as records, absent message fields as undefined.
//
// The .proto texts are embedded in schema/*.ts (so the esbuild bundle needs no
// files) and parsed on first use only: the shim's `start` never loads them.
import pb from 'protobufjs';
import { cgroupsV1, cgroupsV2 } from './schema/cgroups.js';
import { containerdTypes, containerdV1Types } from './schema/containerd-types.js';
import { containerdEvents, containerdEventsTtrpc } from './schema/events.js';
import { googleProtobuf, googleRpc } from './schema/google.js';
import { runcOptions } from './schema/runc.js';
import { taskV2 } from './schema/task.js';

/** google.protobuf.Any: `typeUrl` is the message's full name (containerd sends no type.googleapis.com/ prefix for its own types). */
export interface Any {
  typeUrl: string;
  value: Uint8Array;
}

const schemas = [googleProtobuf, googleRpc, containerdTypes, containerdV1Types, taskV2, containerdEvents, containerdEventsTtrpc, runcOptions, cgroupsV1, cgroupsV2];

let root: pb.Root | undefined;
const types = new Map<string, pb.Type>();

/** The protobufjs root holding every schema (parsed on first call). */
export function protoRoot(): pb.Root {
  if (!root) {
    const r = new pb.Root();
    for (const text of schemas) pb.parse(text, r, { keepCase: false });
    r.resolveAll();
    root = r;
  }
  return root;
}

/** Looks a message type up by full name, e.g. "containerd.task.v2.CreateTaskRequest". */
export function messageType(fullName: string): pb.Type {
  let t = types.get(fullName);
  if (!t) {
    t = protoRoot().lookupType(fullName);
    types.set(fullName, t);
  }
  return t;
}

/** True when the registry knows a message of that full name. */
export function hasMessageType(fullName: string): boolean {
  try {
    messageType(fullName);
    return true;
  } catch {
    return false;
  }
}

const TIMESTAMP = '.google.protobuf.Timestamp';

const toObjectOptions: pb.IConversionOptions = { longs: BigInt, enums: Number, defaults: true, arrays: true, objects: true };

export function encode<T extends object>(fullName: string, value: T): Uint8Array {
  const t = messageType(fullName);
  return t.encode(t.fromObject(toWire(t, value as Record<string, unknown>))).finish();
}

export function decode<T>(fullName: string, bytes: Uint8Array): T {
  const t = messageType(fullName);
  return fromWire(t, t.toObject(t.decode(bytes), toObjectOptions)) as T;
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

/** Decodes an Any with the registry; throws if the type is unknown. */
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

function toWire(t: pb.Type, obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of t.fieldsArray) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    const rt = f.resolvedType;
    if (rt instanceof pb.Type) {
      const conv = (x: unknown) => (rt.fullName === TIMESTAMP ? dateToTimestamp(x as Date) : toWire(rt, x as Record<string, unknown>));
      if (f.map) out[f.name] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, conv(x)]));
      else out[f.name] = f.repeated ? (v as unknown[]).map(conv) : conv(v);
    } else {
      out[f.name] = v;
    }
  }
  return out;
}

function fromWire(t: pb.Type, obj: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of t.fieldsArray) {
    const v = obj[f.name];
    if (v === undefined || v === null) continue;
    const rt = f.resolvedType;
    if (rt instanceof pb.Type) {
      const conv = (x: unknown) =>
        rt.fullName === TIMESTAMP ? timestampToDate(x as { seconds: bigint; nanos: number }) : fromWire(rt, x as Record<string, unknown>);
      if (f.map) out[f.name] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, conv(x)]));
      else out[f.name] = f.repeated ? (v as unknown[]).map(conv) : conv(v);
    } else if (v instanceof Uint8Array && !(v.constructor === Uint8Array)) {
      out[f.name] = new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    } else {
      out[f.name] = v;
    }
  }
  return out;
}
