// Public surface of the proto component: containerd's API messages as plain
// TypeScript objects, and the codec (encode/decode by full message name).
//
// Conventions: camelCase field names; 64-bit integers are bigint; enums are numbers
// (TaskStatus, ExitReason); google.protobuf.Timestamp is Date; google.protobuf.Any
// is { typeUrl, value }; absent message fields are undefined. The schemas are the
// .proto facts embedded in schema/*.ts and are parsed on first use.
export {
  encode,
  decode,
  packAny,
  unpackAny,
  anyTypeName,
  messageType,
  hasMessageType,
  protoRoot,
  dateToTimestamp,
  timestampToDate,
  type Any,
} from './codec.js';
export * from './task-types.js';
export * from './event-types.js';
export * from './runc-types.js';
export * from './metrics-types.js';
