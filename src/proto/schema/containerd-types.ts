// containerd api/types: mount.proto (containerd.types.Mount), event.proto
// (containerd.types.Envelope), introspection.proto (RuntimeInfo) and task/task.proto
// (containerd.v1.types).
export const containerdTypes = `
syntax = "proto3";
package containerd.types;

message Mount {
  string type = 1;
  string source = 2;
  string target = 3;
  repeated string options = 4;
}

// api/types/introspection.proto: what a shim prints for \`-info\`.
message RuntimeInfo {
  string name = 1;
  RuntimeVersion version = 2;
  google.protobuf.Any options = 3;
  google.protobuf.Any features = 4;
  map<string, string> annotations = 5;
}

message RuntimeVersion {
  string version = 1;
  string revision = 2;
}

message Envelope {
  google.protobuf.Timestamp timestamp = 1;
  string namespace = 2;
  string topic = 3;
  google.protobuf.Any event = 4;
}
`;

export const containerdV1Types = `
syntax = "proto3";
package containerd.v1.types;

enum Status {
  UNKNOWN = 0;
  CREATED = 1;
  RUNNING = 2;
  STOPPED = 3;
  PAUSED = 4;
  PAUSING = 5;
}

enum ExitReason {
  NONE = 0;
  OOMKILLED = 1;
  SIGNALED = 2;
}

message Process {
  string container_id = 1;
  string id = 2;
  uint32 pid = 3;
  Status status = 4;
  string stdin = 5;
  string stdout = 6;
  string stderr = 7;
  bool terminal = 8;
  uint32 exit_status = 9;
  google.protobuf.Timestamp exited_at = 10;
  ExitReason exit_reason = 11;
}

message ProcessInfo {
  uint32 pid = 1;
  google.protobuf.Any info = 2;
}
`;
