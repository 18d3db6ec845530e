// /proc/uptime of a vNode: seconds since it started, and idle seconds summed over its
// virtual CPUs (consistent with the idle column of its /proc/stat).
import type { GenContext } from '../context.js';
import { USER_HZ, vcpuTimes } from './cputime.js';

export function uptime(ctx: GenContext): string {
  const up = Math.max(0, (ctx.now - ctx.startedAt) / 1000);
  const idle = vcpuTimes(ctx).reduce((a, t) => a + t.idle, 0) / USER_HZ;
  return `${up.toFixed(2)} ${idle.toFixed(2)}\n`;
}
