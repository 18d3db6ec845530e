// The table of generated files: path inside a vNode's directory → generator. One
// line per file, like a map of procfs entries.
import type { GenContext } from '../context.js';
import { cpuinfo } from './cpuinfo.js';
import { cpuList, empty, newline, one } from './cpus.js';
import { diskstats } from './diskstats.js';
import { loadavg } from './loadavg.js';
import { meminfo } from './meminfo.js';
import { pressure } from './pressure.js';
import { stat } from './stat.js';
import { swaps } from './swaps.js';
import { EMULATED_SYSCTLS, sysctl } from './sysctl.js';
import { uptime } from './uptime.js';

/** Generator of one file; `cpu` is the virtual CPU index for files under cpuN/. */
export type Generator = (ctx: GenContext, cpu: number) => string;

export const PROC_FILES: Record<string, Generator> = {
  meminfo,
  cpuinfo,
  stat,
  uptime,
  loadavg,
  diskstats,
  swaps,
  'pressure/cpu': pressure('cpu'),
  'pressure/memory': pressure('memory'),
  'pressure/io': pressure('io'),
};

/** Writable per-vNode sysctls under proc/sys/. */
export const SYSCTL_FILES: Record<string, Generator> = Object.fromEntries(EMULATED_SYSCTLS.map((name) => [name, sysctl(name)]));

/** Files of sys/devices/system/cpu/ (besides the cpuN directories). */
export const SYS_CPU_FILES: Record<string, Generator> = {
  online: cpuList,
  possible: cpuList,
  present: cpuList,
  offline: newline,
  isolated: newline,
  kernel_max: (ctx) => ctx.host.sys('devices/system/cpu/kernel_max') ?? '8191\n',
};

/** Files of each sys/devices/system/cpu/cpuN/ directory. */
export const SYS_VCPU_FILES: Record<string, Generator> = {
  online: one,
  'topology/core_id': (_ctx, cpu) => `${cpu}\n`,
  'topology/physical_package_id': () => '0\n',
  'topology/die_id': () => '0\n',
  'topology/core_cpus_list': (_ctx, cpu) => `${cpu}\n`,
  'topology/thread_siblings_list': (_ctx, cpu) => `${cpu}\n`,
  'topology/core_siblings_list': cpuList,
  'topology/package_cpus_list': cpuList,
};

export { empty };
