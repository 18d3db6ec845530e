// /proc/loadavg of a vNode: load averages sampled from its own tasks, runnable/total
// tasks and the last PID in its PID namespace.
import type { GenContext } from '../context.js';

export function loadavg(ctx: GenContext): string {
  const l = ctx.load();
  const [a, b, c] = l.avg;
  return `${a.toFixed(2)} ${b.toFixed(2)} ${c.toFixed(2)} ${l.running}/${l.total} ${l.lastPid}\n`;
}
