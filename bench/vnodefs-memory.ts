// Memory cost of vnodefs: the process with one mount and no vNode, then with N vNodes
// whose files have all been read once (the cost that stays per vNode).
//
//   node --expose-gc --import tsx bench/vnodefs-memory.ts [N]
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VnodeFs, type CgroupLocation } from '../src/vnodefs/index.js';

const n = Number(process.argv[2] ?? 500);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with --expose-gc');

function sample(): { rss: number; heap: number } {
  gc!();
  gc!();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed + m.external + m.arrayBuffers };
}

function sh(script: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const c = spawn('sh', ['-c', script], { stdio: ['ignore', 'ignore', 'inherit'] });
    c.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`exit ${code}`))));
  });
}

const work = mkdtempSync(join(tmpdir(), 'vnodefs-mem-'));
const mountpoint = join(work, 'fs');
// One (empty) cgroup that every vNode points at: the cost measured is vnodefs's own.
const v1 = existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes');
const name = `vnode-test-mem-${process.pid}`;
const dirs = v1 ? ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio'].map((c) => `/sys/fs/cgroup/${c}/${name}`) : [`/sys/fs/cgroup/${name}`];
for (const d of dirs) mkdirSync(d);
if (v1) writeFileSync(join(dirs[3]!, 'cpuset.cpus'), readFileSync('/sys/fs/cgroup/cpuset/cpuset.cpus'));
const cgroup: CgroupLocation = v1
  ? { version: 1, paths: Object.fromEntries(['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio'].map((c, i) => [c, dirs[i]!])) }
  : { version: 2, path: dirs[0]! };

const fs = await VnodeFs.mount({ mountpoint, holder: false });
try {
  await sh(`cat ${mountpoint}/ > /dev/null 2>&1; ls ${mountpoint} > /dev/null`);
  const base = sample();
  for (let i = 0; i < n; i++) fs.addVnode(`vn-${i}`, { cgroup, startedAt: Date.now() });
  const justAdded = sample();
  // Every generated file of every vNode read once, from child processes (never from
  // this thread: it serves the mount).
  const files = ['meminfo', 'cpuinfo', 'stat', 'uptime', 'loadavg', 'diskstats', 'swaps'];
  for (let i = 0; i < n; i += 50) {
    const ids = Array.from({ length: Math.min(50, n - i) }, (_, k) => `vn-${i + k}`);
    await sh(`for v in ${ids.join(' ')}; do for f in ${files.join(' ')}; do cat ${mountpoint}/$v/proc/$f; done; cat ${mountpoint}/$v/sys/devices/system/cpu/online; done > /dev/null`);
  }
  const after = sample();
  const mb = (b: number): string => (b / 1024 / 1024).toFixed(1);
  console.log(`vnodefs memory: process RSS with the mount and no vNode ${mb(base.rss)} MB (JS heap+buffers ${mb(base.heap)} MB)`);
  console.log(`${n} vNodes, every file read once: RSS ${mb(after.rss)} MB, JS heap+buffers ${mb(after.heap)} MB`);
  console.log(`after adding only (no read): RSS ${mb(justAdded.rss)} MB, JS heap+buffers ${mb(justAdded.heap)} MB`);
  console.log(`per vNode: ${((after.rss - base.rss) / n / 1024).toFixed(1)} KiB RSS, ${((after.heap - base.heap) / n / 1024).toFixed(1)} KiB JS heap+buffers; requests served ${fs.stats().requests}`);
} finally {
  await fs.close();
  rmSync(work, { recursive: true, force: true });
  for (const d of dirs) rmdirSync(d);
}
