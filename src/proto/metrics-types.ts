// The cgroup metrics containerd expects in StatsResponse.stats, as generated in gen/ from
// proto/containerd/cgroups/v{1,2}/metrics.proto (all fields optional: unset = 0 / absent).
export * as CgroupV1 from './gen/containerd/cgroups/v1/metrics.js';
export * as CgroupV2 from './gen/containerd/cgroups/v2/metrics.js';

export const CGROUPS_V1_METRICS = 'io.containerd.cgroups.v1.Metrics';
export const CGROUPS_V2_METRICS = 'io.containerd.cgroups.v2.Metrics';
