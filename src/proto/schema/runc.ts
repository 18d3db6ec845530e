// containerd core/runtime/v2/runc/options/oci.proto: the runtime options containerd
// sends for runc-style runtimes (CRI sends them for every handler with `options`).
// criu_path (8) exists in 1.x and was removed in 2.0; it is kept for decoding 1.x.
export const runcOptions = `
syntax = "proto3";
package containerd.runc.v1;

message Options {
  bool no_pivot_root = 1;
  bool no_new_keyring = 2;
  string shim_cgroup = 3;
  uint32 io_uid = 4;
  uint32 io_gid = 5;
  string binary_name = 6;
  string root = 7;
  string criu_path = 8;
  bool systemd_cgroup = 9;
  string criu_image_path = 10;
  string criu_work_path = 11;
  string task_api_address = 13;
  string task_api_protocol = 14;
  uint32 task_api_version = 15;
}

message CheckpointOptions {
  bool exit = 1;
  bool open_tcp = 2;
  bool external_unix_sockets = 3;
  bool terminal = 4;
  bool file_locks = 5;
  repeated string empty_namespaces = 6;
  string cgroups_mode = 7;
  string image_path = 8;
  string work_path = 9;
}

message ProcessDetails {
  string exec_id = 1;
}
`;
