// CPU time of a vNode per virtual CPU, in USER_HZ ticks: shared by /proc/stat and
// /proc/uptime so both tell the same story.
import { cpuView, type GenContext } from '../context.js';

export const USER_HZ = 100;

export interface VcpuTimes {
  user: number;
  system: number;
  idle: number;
}

/**
 * Folds the cgroup's CPU time onto `count` virtual CPUs. With per-CPU accounting
 * (v1 cpuacct) the busiest host CPUs land on the lowest virtual CPUs; otherwise the
 * time is spread evenly. Idle is the wall time since the vNode started minus the
 * busy time of that virtual CPU.
 */
export function vcpuTimes(ctx: GenContext): VcpuTimes[] {
  const cpu = ctx.cgroup.cpu();
  const { hostCpus, count } = cpuView(cpu, ctx.host);
  const toTicks = (ns: number): number => Math.floor((ns / 1e9) * USER_HZ);
  const busy: number[] = new Array<number>(count).fill(0);
  const total = cpu.userNs + cpu.systemNs;
  if (cpu.perCpuNs) {
    const used = hostCpus.map((c) => cpu.perCpuNs![c] ?? 0).sort((a, b) => b - a);
    used.forEach((ns, i) => (busy[i % count]! += ns));
  } else {
    busy.fill(total / count);
  }
  const userShare = total > 0 ? cpu.userNs / total : 0;
  const elapsedTicks = Math.max(0, Math.floor(((ctx.now - ctx.startedAt) / 1000) * USER_HZ));
  return busy.map((ns) => {
    const t = toTicks(ns);
    const user = Math.round(t * userShare);
    return { user, system: t - user, idle: Math.max(0, elapsedTicks - t) };
  });
}
