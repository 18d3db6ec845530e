// containerd api/events/task.proto (task lifecycle events) and
// api/services/ttrpc/events/v1/events.proto (Events.Forward, served by containerd
// on its ttrpc socket).
export const containerdEvents = `
syntax = "proto3";
package containerd.events;

message TaskCreate {
  string container_id = 1;
  string bundle = 2;
  repeated containerd.types.Mount rootfs = 3;
  TaskIO io = 4;
  string checkpoint = 5;
  uint32 pid = 6;
}

message TaskStart {
  string container_id = 1;
  uint32 pid = 2;
}

message TaskDelete {
  string container_id = 1;
  uint32 pid = 2;
  uint32 exit_status = 3;
  google.protobuf.Timestamp exited_at = 4;
  string id = 5;
}

message TaskIO {
  string stdin = 1;
  string stdout = 2;
  string stderr = 3;
  bool terminal = 4;
}

message TaskExit {
  string container_id = 1;
  string id = 2;
  uint32 pid = 3;
  uint32 exit_status = 4;
  google.protobuf.Timestamp exited_at = 5;
  containerd.v1.types.ExitReason exit_reason = 6;
}

message TaskOOM {
  string container_id = 1;
}

message TaskExecAdded {
  string container_id = 1;
  string exec_id = 2;
}

message TaskExecStarted {
  string container_id = 1;
  string exec_id = 2;
  uint32 pid = 3;
}

message TaskPaused {
  string container_id = 1;
}

message TaskResumed {
  string container_id = 1;
}

message TaskCheckpointed {
  string container_id = 1;
  string checkpoint = 2;
}
`;

export const containerdEventsTtrpc = `
syntax = "proto3";
package containerd.services.events.ttrpc.v1;

service Events {
  rpc Forward(ForwardRequest) returns (google.protobuf.Empty);
}

message ForwardRequest {
  containerd.types.Envelope envelope = 1;
}
`;
