// /proc/cpuinfo of a vNode: the host's blocks for the CPUs it may use, cut to its
// virtual CPU count and renumbered from 0.
import { cpuView, type GenContext } from '../context.js';

function setField(block: string[], name: string, value: string | number): void {
  for (let i = 0; i < block.length; i++) {
    const line = block[i]!;
    const tab = line.indexOf(':');
    if (tab > 0 && line.slice(0, tab).trim() === name) block[i] = `${line.slice(0, tab)}: ${value}`;
  }
}

export function cpuinfo(ctx: GenContext): string {
  const text = ctx.host.proc('cpuinfo') ?? '';
  const blocks = text.split('\n\n').filter((b) => b.trim() !== '');
  const byProcessor = new Map<number, string>();
  for (const b of blocks) {
    const m = /^processor\s*:\s*(\d+)/m.exec(b);
    if (m) byProcessor.set(Number(m[1]), b);
  }
  const { hostCpus, count } = cpuView(ctx.cgroup.cpu(), ctx.host);
  let out = '';
  for (let v = 0; v < count; v++) {
    const src = byProcessor.get(hostCpus[v % hostCpus.length]!) ?? blocks[0];
    if (src === undefined) break;
    const lines = src.split('\n');
    setField(lines, 'processor', v);
    setField(lines, 'siblings', count);
    setField(lines, 'cpu cores', count);
    setField(lines, 'core id', v);
    setField(lines, 'physical id', 0);
    setField(lines, 'apicid', v);
    setField(lines, 'initial apicid', v);
    out += `${lines.join('\n')}\n\n`;
  }
  return out;
}
