// Stats payloads: containerd/cgroups stats/v1/metrics.proto (io.containerd.cgroups.v1)
// and cgroup2/stats/metrics.proto (io.containerd.cgroups.v2). containerd decodes
// StatsResponse.stats by its type URL, so the package names must match exactly.
export const cgroupsV1 = `
syntax = "proto3";
package io.containerd.cgroups.v1;

message Metrics {
  repeated HugetlbStat hugetlb = 1;
  PidsStat pids = 2;
  CPUStat cpu = 3;
  MemoryStat memory = 4;
  BlkIOStat blkio = 5;
  RdmaStat rdma = 6;
  repeated NetworkStat network = 7;
  CgroupStats cgroup_stats = 8;
  MemoryOomControl memory_oom_control = 9;
}

message HugetlbStat {
  uint64 usage = 1;
  uint64 max = 2;
  uint64 failcnt = 3;
  string pagesize = 4;
}

message PidsStat {
  uint64 current = 1;
  uint64 limit = 2;
}

message CPUStat {
  CPUUsage usage = 1;
  Throttle throttling = 2;
}

message CPUUsage {
  uint64 total = 1;
  uint64 kernel = 2;
  uint64 user = 3;
  repeated uint64 per_cpu = 4;
}

message Throttle {
  uint64 periods = 1;
  uint64 throttled_periods = 2;
  uint64 throttled_time = 3;
}

message MemoryStat {
  uint64 cache = 1;
  uint64 rss = 2;
  uint64 rss_huge = 3;
  uint64 mapped_file = 4;
  uint64 dirty = 5;
  uint64 writeback = 6;
  uint64 pg_pg_in = 7;
  uint64 pg_pg_out = 8;
  uint64 pg_fault = 9;
  uint64 pg_maj_fault = 10;
  uint64 inactive_anon = 11;
  uint64 active_anon = 12;
  uint64 inactive_file = 13;
  uint64 active_file = 14;
  uint64 unevictable = 15;
  uint64 hierarchical_memory_limit = 16;
  uint64 hierarchical_swap_limit = 17;
  uint64 total_cache = 18;
  uint64 total_rss = 19;
  uint64 total_rss_huge = 20;
  uint64 total_mapped_file = 21;
  uint64 total_dirty = 22;
  uint64 total_writeback = 23;
  uint64 total_pg_pg_in = 24;
  uint64 total_pg_pg_out = 25;
  uint64 total_pg_fault = 26;
  uint64 total_pg_maj_fault = 27;
  uint64 total_inactive_anon = 28;
  uint64 total_active_anon = 29;
  uint64 total_inactive_file = 30;
  uint64 total_active_file = 31;
  uint64 total_unevictable = 32;
  MemoryEntry usage = 33;
  MemoryEntry swap = 34;
  MemoryEntry kernel = 35;
  MemoryEntry kernel_tcp = 36;
}

message MemoryEntry {
  uint64 limit = 1;
  uint64 usage = 2;
  uint64 max = 3;
  uint64 failcnt = 4;
}

message MemoryOomControl {
  uint64 oom_kill_disable = 1;
  uint64 under_oom = 2;
  uint64 oom_kill = 3;
}

message BlkIOStat {
  repeated BlkIOEntry io_service_bytes_recursive = 1;
  repeated BlkIOEntry io_serviced_recursive = 2;
  repeated BlkIOEntry io_queued_recursive = 3;
  repeated BlkIOEntry io_service_time_recursive = 4;
  repeated BlkIOEntry io_wait_time_recursive = 5;
  repeated BlkIOEntry io_merged_recursive = 6;
  repeated BlkIOEntry io_time_recursive = 7;
  repeated BlkIOEntry sectors_recursive = 8;
}

message BlkIOEntry {
  string op = 1;
  string device = 2;
  uint64 major = 3;
  uint64 minor = 4;
  uint64 value = 5;
}

message RdmaStat {
  repeated RdmaEntry current = 1;
  repeated RdmaEntry limit = 2;
}

message RdmaEntry {
  string device = 1;
  uint32 hca_handles = 2;
  uint32 hca_objects = 3;
}

message NetworkStat {
  string name = 1;
  uint64 rx_bytes = 2;
  uint64 rx_packets = 3;
  uint64 rx_errors = 4;
  uint64 rx_dropped = 5;
  uint64 tx_bytes = 6;
  uint64 tx_packets = 7;
  uint64 tx_errors = 8;
  uint64 tx_dropped = 9;
}

message CgroupStats {
  uint64 nr_sleeping = 1;
  uint64 nr_running = 2;
  uint64 nr_stopped = 3;
  uint64 nr_uninterruptible = 4;
  uint64 nr_io_wait = 5;
}
`;

export const cgroupsV2 = `
syntax = "proto3";
package io.containerd.cgroups.v2;

message Metrics {
  PidsStat pids = 1;
  CPUStat cpu = 2;
  MemoryStat memory = 4;
  RdmaStat rdma = 5;
  IOStat io = 6;
  repeated HugeTlbStat hugetlb = 7;
  MemoryEvents memory_events = 8;
}

message PidsStat {
  uint64 current = 1;
  uint64 limit = 2;
}

message CPUStat {
  uint64 usage_usec = 1;
  uint64 user_usec = 2;
  uint64 system_usec = 3;
  uint64 nr_periods = 4;
  uint64 nr_throttled = 5;
  uint64 throttled_usec = 6;
}

message MemoryStat {
  uint64 anon = 1;
  uint64 file = 2;
  uint64 kernel_stack = 3;
  uint64 slab = 4;
  uint64 sock = 5;
  uint64 shmem = 6;
  uint64 file_mapped = 7;
  uint64 file_dirty = 8;
  uint64 file_writeback = 9;
  uint64 anon_thp = 10;
  uint64 inactive_anon = 11;
  uint64 active_anon = 12;
  uint64 inactive_file = 13;
  uint64 active_file = 14;
  uint64 unevictable = 15;
  uint64 slab_reclaimable = 16;
  uint64 slab_unreclaimable = 17;
  uint64 pgfault = 18;
  uint64 pgmajfault = 19;
  uint64 workingset_refault = 20;
  uint64 workingset_activate = 21;
  uint64 workingset_nodereclaim = 22;
  uint64 pgrefill = 23;
  uint64 pgscan = 24;
  uint64 pgsteal = 25;
  uint64 pgactivate = 26;
  uint64 pgdeactivate = 27;
  uint64 pglazyfree = 28;
  uint64 pglazyfreed = 29;
  uint64 thp_fault_alloc = 30;
  uint64 thp_collapse_alloc = 31;
  uint64 usage = 32;
  uint64 usage_limit = 33;
  uint64 swap_usage = 34;
  uint64 swap_limit = 35;
  uint64 max_usage = 36;
  uint64 swap_max_usage = 37;
}

message MemoryEvents {
  uint64 low = 1;
  uint64 high = 2;
  uint64 max = 3;
  uint64 oom = 4;
  uint64 oom_kill = 5;
}

message RdmaStat {
  repeated RdmaEntry current = 1;
  repeated RdmaEntry limit = 2;
}

message RdmaEntry {
  string device = 1;
  uint32 hca_handles = 2;
  uint32 hca_objects = 3;
}

message IOStat {
  repeated IOEntry usage = 1;
}

message IOEntry {
  uint64 major = 1;
  uint64 minor = 2;
  uint64 rbytes = 3;
  uint64 wbytes = 4;
  uint64 rios = 5;
  uint64 wios = 6;
}

message HugeTlbStat {
  uint64 current = 1;
  uint64 max = 2;
  string pagesize = 3;
}
`;
