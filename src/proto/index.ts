// Public surface of the proto component: containerd's API messages as plain
// TypeScript objects, and the codec (encode/decode by full message name).
//
// The messages are generated from proto/ into gen/ (npm run proto:gen; see
// docs/protocol.md). Conventions: camelCase field names; 64-bit integers are bigint;
// enums are numbers (TaskStatus, ExitReason); google.protobuf.Timestamp is Date;
// google.protobuf.Any is { typeUrl, value }; absent message fields are undefined.
export {
  encode,
  decode,
  packAny,
  unpackAny,
  anyTypeName,
  messageType,
  messageName,
  hasMessageType,
  dateToTimestamp,
  timestampToDate,
  ProtoError,
  type Any,
  type MessageCodec,
} from './codec.js';
export * from './task-types.js';
export * from './event-types.js';
export * from './runc-types.js';
export * from './runtimeoptions-types.js';
export * from './metrics-types.js';
