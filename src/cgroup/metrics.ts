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

// memory.stat keys carried into io.containerd.cgroups.v2.MemoryStat (same names in
// camelCase). The CRI plugin computes the working set as usage - inactive_file.
const V2_MEMORY_STAT_KEYS = [
  'anon', 'file', 'kernel_stack', 'slab', 'sock', 'shmem', 'file_mapped', 'file_dirty', 'file_writeback', 'anon_thp',
  'inactive_anon', 'active_anon', 'inactive_file', 'active_file', 'unevictable', 'slab_reclaimable', 'slab_unreclaimable',
  'pgfault', 'pgmajfault', 'workingset_refault', 'workingset_activate', 'workingset_nodereclaim', 'pgrefill', 'pgscan',
  'pgsteal', 'pgactivate', 'pgdeactivate', 'pglazyfree', 'pglazyfreed', 'thp_fault_alloc', 'thp_collapse_alloc',
] as const;

function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** io.stat: "<major>:<minor> rbytes=.. wbytes=.. rios=.. wios=.. dbytes=.. dios=.." per device. */
function ioEntries(text: string | undefined): CgroupV2.IOEntry[] {
  const out: CgroupV2.IOEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [dev, ...kv] = line.trim().split(/\s+/);
    const m = /^(\d+):(\d+)$/.exec(dev ?? '');
    if (!m) continue;
    const v = new Map(kv.map((p) => p.split('=') as [string, string]));
    const n = (k: string): bigint => (/^\d+$/.test(v.get(k) ?? '') ? BigInt(v.get(k)!) : 0n);
    out.push({ major: BigInt(m[1]!), minor: BigInt(m[2]!), rbytes: n('rbytes'), wbytes: n('wbytes'), rios: n('rios'), wios: n('wios') });
  }
  return out;
}

export function metricsV2(loc: CgroupV2Location): CgroupV2.Metrics {
  const dir = loc.path;
  const cpu = keyed(read(dir, 'cpu.stat'));
  const mem = keyed(read(dir, 'memory.stat'));
  const events = keyed(read(dir, 'memory.events'));
  const memory: CgroupV2.MemoryStat = {};
  for (const k of V2_MEMORY_STAT_KEYS) (memory as Record<string, bigint>)[camel(k)] = mem.get(k) ?? 0n;
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
      ...memory,
      usage: num(dir, 'memory.current'),
      usageLimit: num(dir, 'memory.max'),
      swapUsage: num(dir, 'memory.swap.current'),
      swapLimit: num(dir, 'memory.swap.max'),
      // memory.peak (Linux 5.19+) and memory.swap.peak (6.5+); 0 where the kernel has none
      maxUsage: num(dir, 'memory.peak'),
      swapMaxUsage: num(dir, 'memory.swap.peak'),
    },
    memoryEvents: { low: events.get('low') ?? 0n, high: events.get('high') ?? 0n, max: events.get('max') ?? 0n, oom: events.get('oom') ?? 0n, oomKill: events.get('oom_kill') ?? 0n },
    io: { usage: ioEntries(read(dir, 'io.stat')) },
  };
}

export function metricsOf(loc: CgroupLocation): { type: string; value: object } {
  return loc.version === 2 ? { type: CGROUPS_V2_METRICS, value: metricsV2(loc) } : { type: CGROUPS_V1_METRICS, value: metricsV1(loc) };
}
