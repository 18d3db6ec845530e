// /proc/diskstats of a vNode: only the devices its cgroup did IO on, with the
// cgroup's own counters (bytes → 512-byte sectors). Timing columns are not kept per
// cgroup by the kernel and read zero.
import type { GenContext } from '../context.js';

export function diskstats(ctx: GenContext): string {
  const names = new Map<string, string>();
  for (const l of (ctx.host.proc('diskstats') ?? '').split('\n')) {
    const f = l.trim().split(/\s+/);
    if (f.length >= 3) names.set(`${f[0]}:${f[1]}`, f[2]!);
  }
  let out = '';
  const devs = [...ctx.cgroup.io().entries()].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  for (const [dev, c] of devs) {
    const name = names.get(dev);
    if (!name) continue;
    if (c.rios + c.wios + c.dios === 0) continue;
    const [maj, min] = dev.split(':');
    const cols = [c.rios, 0, Math.floor(c.rbytes / 512), 0, c.wios, 0, Math.floor(c.wbytes / 512), 0, 0, 0, 0, c.dios, 0, Math.floor(c.dbytes / 512), 0, 0, 0];
    out += `${maj!.padStart(4)} ${min!.padStart(7)} ${name} ${cols.join(' ')}\n`;
  }
  return out;
}
