// What a file generator gets: the cgroup that applies to the reader, the host's
// files (for templates and fallbacks) and the vNode's start time and load.
import { join } from 'node:path';
import { CgroupReader, parseCpuList, readText, type CpuFacts } from '../cgroup/index.js';

/** Where host files are read from; tests point these at fixture trees. */
export interface HostRoots {
  proc: string;
  sys: string;
}

export const HOST_ROOTS: HostRoots = { proc: '/proc', sys: '/sys' };
const HOST_TTL_MS = 1000;

export class HostFiles {
  constructor(readonly roots: HostRoots = HOST_ROOTS) {}
  /** Host files serve as templates (line sets, CPU models, device names): re-read at most every second. */
  proc(name: string): string | undefined {
    return readText(join(this.roots.proc, name), HOST_TTL_MS);
  }
  sys(name: string): string | undefined {
    return readText(join(this.roots.sys, name), HOST_TTL_MS);
  }
  /** Online host CPUs (host numbering). */
  onlineCpus(): number[] {
    const t = this.sys('devices/system/cpu/online');
    if (t) return parseCpuList(t);
    const info = this.proc('cpuinfo') ?? '';
    const n = info.split('\n').filter((l) => l.startsWith('processor')).length;
    return Array.from({ length: Math.max(1, n) }, (_, i) => i);
  }
}

/** Load averages of a vNode (1, 5, 15 minutes) and its task counts. */
export interface LoadSnapshot {
  avg: [number, number, number];
  running: number;
  total: number;
  lastPid: number;
  /** Context switches of the vNode's live tasks. */
  ctxt: number;
}

export interface GenContext {
  cgroup: CgroupReader;
  host: HostFiles;
  /** vNode start time, ms since the epoch. */
  startedAt: number;
  /** Now, ms since the epoch (passed in so tests are deterministic). */
  now: number;
  load: () => LoadSnapshot;
  /** Sysctl values this vNode wrote (path under /proc/sys → value), if any. */
  sysctls?: Map<string, string>;
}

/** The host CPUs a vNode may use, and how many virtual CPUs it shows. */
export function cpuView(cpu: CpuFacts, host: HostFiles): { hostCpus: number[]; count: number } {
  const online = host.onlineCpus();
  const hostCpus = cpu.cpuset && cpu.cpuset.length > 0 ? cpu.cpuset.filter((c) => online.includes(c)) : online;
  let count = hostCpus.length || 1;
  if (cpu.quota !== null && cpu.quota > 0) count = Math.min(count, Math.ceil(cpu.quota - 1e-9));
  return { hostCpus: hostCpus.length ? hostCpus : online, count: Math.max(1, count) };
}

export function cpuRange(n: number): string {
  return n <= 1 ? '0\n' : `0-${n - 1}\n`;
}
