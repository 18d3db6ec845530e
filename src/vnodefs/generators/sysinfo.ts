// What sysinfo(2) tells a process of a vNode: the same memory, swap, uptime and load
// its /proc/meminfo, /proc/uptime and /proc/loadavg show (the seccomp supervisor
// answers the syscall with it; FUSE cannot).
import type { GenContext } from '../context.js';
import { meminfo, parseMeminfo } from './meminfo.js';

/** struct sysinfo's fields, in bytes and seconds; loads as plain numbers (1.0 = one task). */
export interface SysinfoView {
  uptime: number;
  loads: [number, number, number];
  totalram: number;
  freeram: number;
  sharedram: number;
  bufferram: number;
  totalswap: number;
  freeswap: number;
  procs: number;
}

export function sysinfoView(ctx: GenContext): SysinfoView {
  const kb = new Map(parseMeminfo(meminfo(ctx)).map((l) => [l.key, l.kb * 1024]));
  const load = ctx.load();
  return {
    uptime: Math.max(0, Math.floor((ctx.now - ctx.startedAt) / 1000)),
    loads: load.avg,
    totalram: kb.get('MemTotal') ?? 0,
    freeram: kb.get('MemFree') ?? 0,
    sharedram: kb.get('Shmem') ?? 0,
    bufferram: kb.get('Buffers') ?? 0,
    totalswap: kb.get('SwapTotal') ?? 0,
    freeswap: kb.get('SwapFree') ?? 0,
    procs: Math.max(1, load.total),
  };
}
