// /proc/stat of a vNode: its CPU times per virtual CPU, boot time = vNode start,
// task counts from its own tasks. Interrupt and softirq counters are host-wide in
// the kernel, so they are shown as zero rather than leaking the host's.
import type { GenContext } from '../context.js';
import { vcpuTimes } from './cputime.js';

function line(name: string, t: { user: number; system: number; idle: number }): string {
  return `${name} ${t.user} 0 ${t.system} ${t.idle} 0 0 0 0 0 0\n`;
}

export function stat(ctx: GenContext): string {
  const times = vcpuTimes(ctx);
  const sum = times.reduce((a, t) => ({ user: a.user + t.user, system: a.system + t.system, idle: a.idle + t.idle }), {
    user: 0,
    system: 0,
    idle: 0,
  });
  let out = line('cpu ', sum);
  times.forEach((t, i) => (out += line(`cpu${i}`, t)));
  const load = ctx.load();
  out += 'intr 0\n';
  out += `ctxt ${load.ctxt}\n`;
  out += `btime ${Math.floor(ctx.startedAt / 1000)}\n`;
  out += `processes ${load.lastPid}\n`;
  out += `procs_running ${Math.max(1, load.running)}\n`;
  out += 'procs_blocked 0\n';
  out += 'softirq 0 0 0 0 0 0 0 0 0 0 0\n';
  return out;
}
