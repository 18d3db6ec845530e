// /proc/pressure/{cpu,memory,io} of a vNode: the cgroup's PSI (cgroup v2). cgroup v1
// keeps no per-cgroup PSI, so the vNode sees zeros rather than the host's figures.
import type { GenContext } from '../context.js';

const ZERO = 'avg10=0.00 avg60=0.00 avg300=0.00 total=0';

export function pressure(kind: 'cpu' | 'memory' | 'io'): (ctx: GenContext) => string {
  return (ctx) => ctx.cgroup.pressure(kind) ?? `some ${ZERO}\nfull ${ZERO}\n`;
}
