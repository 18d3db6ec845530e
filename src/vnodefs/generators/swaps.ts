// /proc/swaps of a vNode: one virtual swap area sized by its swap limit, or none.
import type { GenContext } from '../context.js';
import { parseMeminfo } from './meminfo.js';

export const SWAPS_HEADER = 'Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n';

export function swaps(ctx: GenContext): string {
  const mem = ctx.cgroup.memory();
  const hostSwapKb = parseMeminfo(ctx.host.proc('meminfo') ?? '').find((l) => l.key === 'SwapTotal')?.kb ?? 0;
  if (!mem) return SWAPS_HEADER;
  const sizeKb = Math.floor(mem.swapLimit === null ? hostSwapKb : Math.min(mem.swapLimit / 1024, hostSwapKb));
  if (sizeKb <= 0) return SWAPS_HEADER;
  const usedKb = Math.min(sizeKb, Math.floor(mem.swapUsage / 1024));
  const name = 'none';
  return `${SWAPS_HEADER}${name}${' '.repeat(40 - name.length)}virtual\t\t${sizeKb}\t\t${usedKb}\t\t-2\n`;
}
