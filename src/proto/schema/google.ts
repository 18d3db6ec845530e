// google/protobuf/{any,empty,timestamp}.proto and google/rpc/status.proto: the
// well-known types containerd's API uses (field numbers from the upstream files).
export const googleProtobuf = `
syntax = "proto3";
package google.protobuf;

message Any {
  string type_url = 1;
  bytes value = 2;
}

message Empty {}

message Timestamp {
  int64 seconds = 1;
  int32 nanos = 2;
}
`;

export const googleRpc = `
syntax = "proto3";
package google.rpc;

message Status {
  int32 code = 1;
  string message = 2;
  repeated google.protobuf.Any details = 3;
}
`;
