// /proc/meminfo of a vNode: the host kernel's line set and order, with the values
// computed from the cgroup's limit, usage and memory.stat.
import type { GenContext } from '../context.js';

const KB = 1024;

/** Kernel format: "Name:" padded to 16 columns, value right-aligned in 8, then " kB". */
export function meminfoLine(name: string, value: number, unit = true): string {
  const label = `${name}:`.padEnd(16, ' ');
  return `${label}${String(Math.max(0, Math.floor(value))).padStart(8, ' ')}${unit ? ' kB' : ''}\n`;
}

/** Lines the kernel prints on x86_64 (6.x) when the host file is unavailable. */
const DEFAULT_KEYS = [
  'MemTotal', 'MemFree', 'MemAvailable', 'Buffers', 'Cached', 'SwapCached', 'Active', 'Inactive',
  'Active(anon)', 'Inactive(anon)', 'Active(file)', 'Inactive(file)', 'Unevictable', 'Mlocked',
  'SwapTotal', 'SwapFree', 'Zswap', 'Zswapped', 'Dirty', 'Writeback', 'AnonPages', 'Mapped', 'Shmem',
  'KReclaimable', 'Slab', 'SReclaimable', 'SUnreclaim', 'KernelStack', 'PageTables', 'SecPageTables',
  'NFS_Unstable', 'Bounce', 'WritebackTmp', 'CommitLimit', 'Committed_AS', 'VmallocTotal', 'VmallocUsed',
  'VmallocChunk', 'Percpu', 'HardwareCorrupted', 'AnonHugePages', 'ShmemHugePages', 'ShmemPmdMapped',
  'FileHugePages', 'FilePmdMapped', 'Unaccepted', 'HugePages_Total', 'HugePages_Free', 'HugePages_Rsvd',
  'HugePages_Surp', 'Hugepagesize', 'Hugetlb', 'DirectMap4k', 'DirectMap2M', 'DirectMap1G',
];

/** Keys whose host value is an architecture constant, not a fact about the host. */
const KEEP_HOST = new Set(['VmallocTotal', 'Hugepagesize']);

export function parseMeminfo(text: string): { key: string; kb: number; unit: boolean }[] {
  const out: { key: string; kb: number; unit: boolean }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([^:]+):\s+(\d+)( kB)?$/.exec(line);
    if (m) out.push({ key: m[1]!, kb: Number(m[2]), unit: m[3] !== undefined });
  }
  return out;
}

export function meminfo(ctx: GenContext): string {
  const hostText = ctx.host.proc('meminfo') ?? '';
  const host = parseMeminfo(hostText);
  const hostKb = new Map(host.map((l) => [l.key, l.kb]));
  const lines = host.length ? host : DEFAULT_KEYS.map((key) => ({ key, kb: 0, unit: !key.startsWith('HugePages_') }));
  const mem = ctx.cgroup.memory();
  const hostTotal = (hostKb.get('MemTotal') ?? 0) * KB;
  if (!mem) return hostText; // no memory cgroup at all: nothing to virtualize

  const total = mem.limit === null ? hostTotal : Math.min(mem.limit, hostTotal || mem.limit);
  const s = (k: string): number => mem.stat.get(k) ?? 0;
  const usage = Math.min(mem.usage, total);
  const free = total - usage;
  const file = s('file');
  const activeFile = s('active_file');
  const inactiveFile = s('inactive_file');
  const slabReclaimable = s('slab_reclaimable');
  const available = Math.min(total, free + activeFile + inactiveFile + slabReclaimable);
  const hostSwapTotal = (hostKb.get('SwapTotal') ?? 0) * KB;
  const swapTotal = mem.swapLimit === null ? hostSwapTotal : Math.min(mem.swapLimit, hostSwapTotal);
  const swapUsed = Math.min(mem.swapUsage, swapTotal);
  const values: Record<string, number> = {
    MemTotal: total,
    MemFree: free,
    MemAvailable: available,
    Buffers: 0,
    Cached: Math.max(0, file - s('swapcached')),
    SwapCached: s('swapcached'),
    Active: s('active_anon') + activeFile,
    Inactive: s('inactive_anon') + inactiveFile,
    'Active(anon)': s('active_anon'),
    'Inactive(anon)': s('inactive_anon'),
    'Active(file)': activeFile,
    'Inactive(file)': inactiveFile,
    Unevictable: s('unevictable'),
    SwapTotal: swapTotal,
    SwapFree: swapTotal - swapUsed,
    Zswap: s('zswap'),
    Zswapped: s('zswapped'),
    Dirty: s('file_dirty'),
    Writeback: s('file_writeback'),
    AnonPages: s('anon'),
    Mapped: s('file_mapped'),
    Shmem: s('shmem'),
    KReclaimable: slabReclaimable,
    Slab: s('slab') || s('slab_reclaimable') + s('slab_unreclaimable'),
    SReclaimable: slabReclaimable,
    SUnreclaim: s('slab_unreclaimable'),
    KernelStack: s('kernel_stack'),
    PageTables: s('pagetables'),
    SecPageTables: s('sec_pagetables'),
    CommitLimit: total / 2 + swapTotal,
    Committed_AS: s('anon') + s('shmem'),
    Percpu: s('percpu'),
    AnonHugePages: s('anon_thp'),
    ShmemHugePages: s('shmem_thp'),
    FileHugePages: s('file_thp'),
    DirectMap4k: total,
  };
  let out = '';
  for (const l of lines) {
    let kb: number;
    if (l.key in values) kb = values[l.key]! / KB;
    else if (KEEP_HOST.has(l.key)) kb = l.kb;
    else kb = 0;
    out += meminfoLine(l.key, kb, l.unit);
  }
  return out;
}
