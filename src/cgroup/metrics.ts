// The cgroup metrics containerd expects in the Task API's StatsResponse.stats:
// io.containerd.cgroups.v1.Metrics on v1 and hybrid hosts (from the v1 controllers),
// io.containerd.cgroups.v2.Metrics on v2 hosts (from the unified directory). Files
// are read fresh; a missing file or "max" reads as 0. Also the members of a cgroup and
// its OOM-kill count, which the manager reads for kill and exit reasons.
import { join } from 'node:path';
import { CGROUPS_V1_METRICS, CGROUPS_V2_METRICS, type CgroupV1, type CgroupV2 } from '../proto/index.js';
import { readFresh } from './files.js';
import { membersDir, type CgroupLocation, type CgroupV1Location, type CgroupV2Location } from './location.js';

function read(dir: string | undefined, file: string): string | undefined {
  if (!dir) return undefined;
  return readFresh(join(dir, file));
}

function num(dir: string | undefined, file: string): bigint {
  const t = read(dir, file)?.trim();
  if (!t || t === 'max') return 0n;
  try {
    return BigInt(t);
  } catch {
    return 0n;
  }
}

function keyed(text: string | undefined): Map<string, bigint> {
  const out = new Map<string, bigint>();
  for (const line of (text ?? '').split('\n')) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v !== undefined && /^\d+$/.test(v)) out.set(k, BigInt(v));
  }
  return out;
}

/** Host PIDs in the cgroup (its cgroup.procs; v1: the pids, else memory, else cpu controller's). */
export function cgroupPids(loc: CgroupLocation): number[] {
  return (read(membersDir(loc), 'cgroup.procs') ?? '').split('\n').filter(Boolean).map(Number);
}

/** OOM kills recorded by the memory controller (v1 memory.oom_control, v2 memory.events). */
export function oomKills(loc: CgroupLocation): number {
  if (loc.version === 2) return Number(keyed(read(loc.path, 'memory.events')).get('oom_kill') ?? 0n);
  return Number(keyed(read(loc.paths.memory, 'memory.oom_control')).get('oom_kill') ?? 0n);
}

const USER_HZ = 100n;

export function metricsV1(loc: CgroupV1Location): CgroupV1.Metrics {
  const mem = loc.paths.memory;
  const stat = keyed(read(mem, 'memory.stat'));
  const s = (k: string) => stat.get(k) ?? 0n;
  const cpuacct = loc.paths.cpuacct;
  const cpuStat = keyed(read(cpuacct, 'cpuacct.stat'));
  const throttle = keyed(read(loc.paths.cpu, 'cpu.stat'));
  const perCpu = (read(cpuacct, 'cpuacct.usage_percpu') ?? '').trim().split(/\s+/).filter(Boolean).map((x) => BigInt(x));
  const oom = keyed(read(mem, 'memory.oom_control'));
  return {
    pids: { current: num(loc.paths.pids, 'pids.current'), limit: num(loc.paths.pids, 'pids.max') },
    cpu: {
      usage: {
        total: num(cpuacct, 'cpuacct.usage'),
        user: ((cpuStat.get('user') ?? 0n) * 1_000_000_000n) / USER_HZ,
        kernel: ((cpuStat.get('system') ?? 0n) * 1_000_000_000n) / USER_HZ,
        perCpu,
      },
      throttling: { periods: throttle.get('nr_periods') ?? 0n, throttledPeriods: throttle.get('nr_throttled') ?? 0n, throttledTime: throttle.get('throttled_time') ?? 0n },
    },
    memory: {
      cache: s('cache'),
      rss: s('rss'),
      rssHuge: s('rss_huge'),
      mappedFile: s('mapped_file'),
      dirty: s('dirty'),
      writeback: s('writeback'),
      pgPgIn: s('pgpgin'),
      pgPgOut: s('pgpgout'),
      pgFault: s('pgfault'),
      pgMajFault: s('pgmajfault'),
      inactiveAnon: s('inactive_anon'),
      activeAnon: s('active_anon'),
      inactiveFile: s('inactive_file'),
      activeFile: s('active_file'),
      unevictable: s('unevictable'),
      hierarchicalMemoryLimit: s('hierarchical_memory_limit'),
      hierarchicalSwapLimit: s('hierarchical_memsw_limit'),
      totalCache: s('total_cache'),
      totalRss: s('total_rss'),
      totalRssHuge: s('total_rss_huge'),
      totalMappedFile: s('total_mapped_file'),
      totalDirty: s('total_dirty'),
      totalWriteback: s('total_writeback'),
      totalPgPgIn: s('total_pgpgin'),
      totalPgPgOut: s('total_pgpgout'),
      totalPgFault: s('total_pgfault'),
      totalPgMajFault: s('total_pgmajfault'),
      totalInactiveAnon: s('total_inactive_anon'),
      totalActiveAnon: s('total_active_anon'),
      totalInactiveFile: s('total_inactive_file'),
      totalActiveFile: s('total_active_file'),
      totalUnevictable: s('total_unevictable'),
      usage: { usage: num(mem, 'memory.usage_in_bytes'), limit: num(mem, 'memory.limit_in_bytes'), max: num(mem, 'memory.max_usage_in_bytes'), failcnt: num(mem, 'memory.failcnt') },
      swap: { usage: num(mem, 'memory.memsw.usage_in_bytes'), limit: num(mem, 'memory.memsw.limit_in_bytes'), max: num(mem, 'memory.memsw.max_usage_in_bytes'), failcnt: num(mem, 'memory.memsw.failcnt') },
      kernel: { usage: num(mem, 'memory.kmem.usage_in_bytes'), limit: num(mem, 'memory.kmem.limit_in_bytes'), max: num(mem, 'memory.kmem.max_usage_in_bytes'), failcnt: num(mem, 'memory.kmem.failcnt') },
    },
    memoryOomControl: { oomKillDisable: oom.get('oom_kill_disable') ?? 0n, underOom: oom.get('under_oom') ?? 0n, oomKill: oom.get('oom_kill') ?? 0n },
  };
}

export function metricsV2(loc: CgroupV2Location): CgroupV2.Metrics {
  const dir = loc.path;
  const cpu = keyed(read(dir, 'cpu.stat'));
  const mem = keyed(read(dir, 'memory.stat'));
  const m = (k: string) => mem.get(k) ?? 0n;
  return {
    pids: { current: num(dir, 'pids.current'), limit: num(dir, 'pids.max') },
    cpu: {
      usageUsec: cpu.get('usage_usec') ?? 0n,
      userUsec: cpu.get('user_usec') ?? 0n,
      systemUsec: cpu.get('system_usec') ?? 0n,
      nrPeriods: cpu.get('nr_periods') ?? 0n,
      nrThrottled: cpu.get('nr_throttled') ?? 0n,
      throttledUsec: cpu.get('throttled_usec') ?? 0n,
    },
    memory: {
      anon: m('anon'),
      file: m('file'),
      kernelStack: m('kernel_stack'),
      slab: m('slab'),
      sock: m('sock'),
      shmem: m('shmem'),
      fileMapped: m('file_mapped'),
      fileDirty: m('file_dirty'),
      usage: num(dir, 'memory.current'),
      usageLimit: num(dir, 'memory.max'),
      swapUsage: num(dir, 'memory.swap.current'),
      swapLimit: num(dir, 'memory.swap.max'),
    } as CgroupV2.MemoryStat,
  };
}

export function metricsOf(loc: CgroupLocation): { type: string; value: object } {
  return loc.version === 2 ? { type: CGROUPS_V2_METRICS, value: metricsV2(loc) } : { type: CGROUPS_V1_METRICS, value: metricsV1(loc) };
}
