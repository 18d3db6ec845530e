// /proc/sys entries the kernel does not namespace, kept per vNode: a vNode reads back
// what it wrote (the host's value until then); the host and other vNodes never see
// it. The kernel's behaviour does not change: these are the vNode's view only.
// Namespaced sysctls (net.*, kernel.hostname, ipc, user.*) are not listed: the
// container's own procfs serves them and they act normally.
import type { GenContext } from '../context.js';

export const EMULATED_SYSCTLS = [
  'vm/overcommit_memory', 'vm/overcommit_ratio', 'vm/max_map_count', 'vm/swappiness', 'vm/dirty_ratio',
  'vm/dirty_background_ratio', 'fs/file-max', 'fs/nr_open', 'fs/aio-max-nr', 'fs/inotify/max_user_watches',
  'fs/inotify/max_user_instances', 'fs/inotify/max_queued_events', 'kernel/pid_max', 'kernel/threads-max',
  'kernel/panic', 'kernel/panic_on_oops', 'kernel/core_pattern', 'kernel/perf_event_paranoid',
  'kernel/randomize_va_space', 'kernel/dmesg_restrict', 'kernel/kptr_restrict',
];

export function sysctl(name: string): (ctx: GenContext) => string {
  return (ctx) => ctx.sysctls?.get(name) ?? ctx.host.proc(`sys/${name}`) ?? '';
}

/**
 * The value to store for a write, or undefined if the kernel would refuse it
 * (EINVAL): numeric sysctls take integers (several for vectors), strings take one line.
 */
export function parseSysctlWrite(hostValue: string, data: string): string | undefined {
  const v = data.replace(/\n$/, '');
  if (v.includes('\n') || v.length > 4095) return undefined;
  const numeric = /^\s*-?\d+(\s+-?\d+)*\s*$/.test(hostValue);
  if (!numeric) return `${v}\n`;
  const parts = v.trim().split(/\s+/);
  if (parts.length === 0 || parts.some((p) => !/^-?\d+$/.test(p))) return undefined;
  return `${parts.join('\t')}\n`;
}
