// /sys/devices/system/cpu/{online,possible,present} and the cpuN/ directories of a vNode.
import { cpuRange, cpuView, type GenContext } from '../context.js';

export function vcpuCount(ctx: GenContext): number {
  return cpuView(ctx.cgroup.cpu(), ctx.host).count;
}

export function cpuList(ctx: GenContext): string {
  return cpuRange(vcpuCount(ctx));
}

/** cpuN/online: every virtual CPU is online. */
export function one(): string {
  return '1\n';
}

export function empty(): string {
  return '';
}

export function newline(): string {
  return '\n';
}
