// Load averages of a vNode, computed like the kernel's: every 5 s the number of its
// runnable and uninterruptible tasks is folded into three exponential averages.
import { readFileSync } from 'node:fs';
import type { CgroupReader } from './cgroup.js';
import type { LoadSnapshot } from './context.js';

export const SAMPLE_INTERVAL_MS = 5000;
const DECAY = [Math.exp(-5 / 60), Math.exp(-5 / 300), Math.exp(-5 / 900)] as const;

export interface TaskCounts {
  running: number;
  uninterruptible: number;
  total: number;
  lastPid: number;
}

/** Scans the tasks of a cgroup: states from /proc/<tid>/stat, PIDs as the vNode sees them. */
export function countTasks(cg: CgroupReader, nsLevel: number, procRoot = '/proc'): TaskCounts {
  const c: TaskCounts = { running: 0, uninterruptible: 0, total: 0, lastPid: 0 };
  for (const tid of cg.tids()) {
    let st: string;
    try {
      st = readFileSync(`${procRoot}/${tid}/stat`, 'latin1');
    } catch {
      continue;
    }
    c.total++;
    const state = st.charAt(st.lastIndexOf(')') + 2);
    if (state === 'R') c.running++;
    else if (state === 'D') c.uninterruptible++;
    if (nsLevel > 0) {
      try {
        const ns = /^NSpid:\s+(.*)$/m.exec(readFileSync(`${procRoot}/${tid}/status`, 'latin1'))?.[1]?.split(/\s+/);
        const pid = Number(ns?.[nsLevel - 1] ?? 0);
        if (pid > c.lastPid) c.lastPid = pid;
      } catch {
        /* task exited */
      }
    } else if (tid > c.lastPid) c.lastPid = tid;
  }
  return c;
}

/** Depth of a process's PID namespace (1 = the host's), from its NSpid line. */
export function nsLevelOf(pid: number | undefined, procRoot = '/proc'): number {
  if (!pid) return 0;
  try {
    const ns = /^NSpid:\s+(.*)$/m.exec(readFileSync(`${procRoot}/${pid}/status`, 'latin1'))?.[1];
    return ns ? ns.trim().split(/\s+/).length : 0;
  } catch {
    return 0;
  }
}

export class LoadTracker {
  private avg: [number, number, number] = [0, 0, 0];
  constructor(
    private readonly cg: CgroupReader,
    private readonly nsLevel: number,
  ) {}

  /** Folds one sample into the averages (called every SAMPLE_INTERVAL_MS). */
  sample(): void {
    const c = countTasks(this.cg, this.nsLevel);
    this.fold(c.running + c.uninterruptible);
  }

  fold(active: number): void {
    this.avg = this.avg.map((a, i) => a * DECAY[i]! + active * (1 - DECAY[i]!)) as [number, number, number];
  }

  snapshot(): LoadSnapshot {
    const c = countTasks(this.cg, this.nsLevel);
    return { avg: [...this.avg], running: c.running, total: c.total, lastPid: c.lastPid };
  }
}
