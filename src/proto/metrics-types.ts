// TypeScript shapes of the cgroup metrics containerd expects in StatsResponse.stats:
// io.containerd.cgroups.v1.Metrics (cgroup v1 / hybrid hosts) and io.containerd.cgroups.v2.Metrics.
// Generated once from schema/cgroups.ts (all fields optional: unset = 0 / absent).

export const CGROUPS_V1_METRICS = 'io.containerd.cgroups.v1.Metrics';
export const CGROUPS_V2_METRICS = 'io.containerd.cgroups.v2.Metrics';

export namespace CgroupV1 {
  export interface Metrics {
    hugetlb?: HugetlbStat[];
    pids?: PidsStat;
    cpu?: CPUStat;
    memory?: MemoryStat;
    blkio?: BlkIOStat;
    rdma?: RdmaStat;
    network?: NetworkStat[];
    cgroupStats?: CgroupStats;
    memoryOomControl?: MemoryOomControl;
  }
  export interface HugetlbStat {
    usage?: bigint;
    max?: bigint;
    failcnt?: bigint;
    pagesize?: string;
  }
  export interface PidsStat {
    current?: bigint;
    limit?: bigint;
  }
  export interface CPUStat {
    usage?: CPUUsage;
    throttling?: Throttle;
  }
  export interface CPUUsage {
    total?: bigint;
    kernel?: bigint;
    user?: bigint;
    perCpu?: bigint[];
  }
  export interface Throttle {
    periods?: bigint;
    throttledPeriods?: bigint;
    throttledTime?: bigint;
  }
  export interface MemoryStat {
    cache?: bigint;
    rss?: bigint;
    rssHuge?: bigint;
    mappedFile?: bigint;
    dirty?: bigint;
    writeback?: bigint;
    pgPgIn?: bigint;
    pgPgOut?: bigint;
    pgFault?: bigint;
    pgMajFault?: bigint;
    inactiveAnon?: bigint;
    activeAnon?: bigint;
    inactiveFile?: bigint;
    activeFile?: bigint;
    unevictable?: bigint;
    hierarchicalMemoryLimit?: bigint;
    hierarchicalSwapLimit?: bigint;
    totalCache?: bigint;
    totalRss?: bigint;
    totalRssHuge?: bigint;
    totalMappedFile?: bigint;
    totalDirty?: bigint;
    totalWriteback?: bigint;
    totalPgPgIn?: bigint;
    totalPgPgOut?: bigint;
    totalPgFault?: bigint;
    totalPgMajFault?: bigint;
    totalInactiveAnon?: bigint;
    totalActiveAnon?: bigint;
    totalInactiveFile?: bigint;
    totalActiveFile?: bigint;
    totalUnevictable?: bigint;
    usage?: MemoryEntry;
    swap?: MemoryEntry;
    kernel?: MemoryEntry;
    kernelTcp?: MemoryEntry;
  }
  export interface MemoryEntry {
    limit?: bigint;
    usage?: bigint;
    max?: bigint;
    failcnt?: bigint;
  }
  export interface MemoryOomControl {
    oomKillDisable?: bigint;
    underOom?: bigint;
    oomKill?: bigint;
  }
  export interface BlkIOStat {
    ioServiceBytesRecursive?: BlkIOEntry[];
    ioServicedRecursive?: BlkIOEntry[];
    ioQueuedRecursive?: BlkIOEntry[];
    ioServiceTimeRecursive?: BlkIOEntry[];
    ioWaitTimeRecursive?: BlkIOEntry[];
    ioMergedRecursive?: BlkIOEntry[];
    ioTimeRecursive?: BlkIOEntry[];
    sectorsRecursive?: BlkIOEntry[];
  }
  export interface BlkIOEntry {
    op?: string;
    device?: string;
    major?: bigint;
    minor?: bigint;
    value?: bigint;
  }
  export interface RdmaStat {
    current?: RdmaEntry[];
    limit?: RdmaEntry[];
  }
  export interface RdmaEntry {
    device?: string;
    hcaHandles?: number;
    hcaObjects?: number;
  }
  export interface NetworkStat {
    name?: string;
    rxBytes?: bigint;
    rxPackets?: bigint;
    rxErrors?: bigint;
    rxDropped?: bigint;
    txBytes?: bigint;
    txPackets?: bigint;
    txErrors?: bigint;
    txDropped?: bigint;
  }
  export interface CgroupStats {
    nrSleeping?: bigint;
    nrRunning?: bigint;
    nrStopped?: bigint;
    nrUninterruptible?: bigint;
    nrIoWait?: bigint;
  }
}

export namespace CgroupV2 {
  export interface Metrics {
    pids?: PidsStat;
    cpu?: CPUStat;
    memory?: MemoryStat;
    rdma?: RdmaStat;
    io?: IOStat;
    hugetlb?: HugeTlbStat[];
    memoryEvents?: MemoryEvents;
  }
  export interface PidsStat {
    current?: bigint;
    limit?: bigint;
  }
  export interface CPUStat {
    usageUsec?: bigint;
    userUsec?: bigint;
    systemUsec?: bigint;
    nrPeriods?: bigint;
    nrThrottled?: bigint;
    throttledUsec?: bigint;
  }
  export interface MemoryStat {
    anon?: bigint;
    file?: bigint;
    kernelStack?: bigint;
    slab?: bigint;
    sock?: bigint;
    shmem?: bigint;
    fileMapped?: bigint;
    fileDirty?: bigint;
    fileWriteback?: bigint;
    anonThp?: bigint;
    inactiveAnon?: bigint;
    activeAnon?: bigint;
    inactiveFile?: bigint;
    activeFile?: bigint;
    unevictable?: bigint;
    slabReclaimable?: bigint;
    slabUnreclaimable?: bigint;
    pgfault?: bigint;
    pgmajfault?: bigint;
    workingsetRefault?: bigint;
    workingsetActivate?: bigint;
    workingsetNodereclaim?: bigint;
    pgrefill?: bigint;
    pgscan?: bigint;
    pgsteal?: bigint;
    pgactivate?: bigint;
    pgdeactivate?: bigint;
    pglazyfree?: bigint;
    pglazyfreed?: bigint;
    thpFaultAlloc?: bigint;
    thpCollapseAlloc?: bigint;
    usage?: bigint;
    usageLimit?: bigint;
    swapUsage?: bigint;
    swapLimit?: bigint;
    maxUsage?: bigint;
    swapMaxUsage?: bigint;
  }
  export interface MemoryEvents {
    low?: bigint;
    high?: bigint;
    max?: bigint;
    oom?: bigint;
    oomKill?: bigint;
  }
  export interface RdmaStat {
    current?: RdmaEntry[];
    limit?: RdmaEntry[];
  }
  export interface RdmaEntry {
    device?: string;
    hcaHandles?: number;
    hcaObjects?: number;
  }
  export interface IOStat {
    usage?: IOEntry[];
  }
  export interface IOEntry {
    major?: bigint;
    minor?: bigint;
    rbytes?: bigint;
    wbytes?: bigint;
    rios?: bigint;
    wios?: bigint;
  }
  export interface HugeTlbStat {
    current?: bigint;
    max?: bigint;
    pagesize?: string;
  }
}
