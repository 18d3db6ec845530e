// /proc/loadavg of a vNode: load averages sampled from its own tasks, runnable/total
// tasks and the last PID in its PID namespace.
// The reader itself is running while it reads, as in the kernel's count.
import type { GenContext } from '../context.js';

export function loadavg(ctx: GenContext): string {
  const l = ctx.load();
  const [a, b, c] = l.avg;
  return `${a.toFixed(2)} ${b.toFixed(2)} ${c.toFixed(2)} ${Math.max(1, l.running)}/${Math.max(1, l.total)} ${l.lastPid}\n`;
}
