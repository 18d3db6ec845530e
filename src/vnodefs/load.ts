// Load averages of a vNode, computed like the kernel's: every 5 s the number of its
// runnable and uninterruptible tasks is folded into three exponential averages.
import { readFileSync } from 'node:fs';
import type { CgroupReader } from '../cgroup/index.js';
import type { LoadSnapshot } from './context.js';

export const SAMPLE_INTERVAL_MS = 5000;
const DECAY = [Math.exp(-5 / 60), Math.exp(-5 / 300), Math.exp(-5 / 900)] as const;

export interface TaskCounts {
  running: number;
  uninterruptible: number;
  total: number;
  lastPid: number;
  /** Context switches of the live tasks (voluntary + involuntary). */
  ctxt: number;
}

/** Scans the tasks of a cgroup: one /proc/<tid>/status each for state, PID as the vNode sees it and context switches. */
export function countTasks(cg: CgroupReader, nsLevel: number, procRoot = '/proc'): TaskCounts {
  const c: TaskCounts = { running: 0, uninterruptible: 0, total: 0, lastPid: 0, ctxt: 0 };
  for (const tid of cg.tids()) {
    let st: string;
    try {
      st = readFileSync(`${procRoot}/${tid}/status`, 'latin1');
    } catch {
      continue;
    }
    c.total++;
    const state = /^State:\s+(\S)/m.exec(st)?.[1];
    if (state === 'R') c.running++;
    else if (state === 'D') c.uninterruptible++;
    const ns = /^NSpid:\s+(.*)$/m.exec(st)?.[1]?.trim().split(/\s+/);
    const pid = nsLevel > 0 ? Number(ns?.[nsLevel - 1] ?? 0) : tid;
    if (pid > c.lastPid) c.lastPid = pid;
    c.ctxt += Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0) + Number(/^nonvoluntary_ctxt_switches:\s+(\d+)/m.exec(st)?.[1] ?? 0);
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

/** A task scan is reused for this long by readers of loadavg and stat. */
const SCAN_TTL_MS = 1000;

/** The tasks of several cgroups (the pods of one vNode) as one count. */
export function sumCounts(counts: TaskCounts[]): TaskCounts {
  const c: TaskCounts = { running: 0, uninterruptible: 0, total: 0, lastPid: 0, ctxt: 0 };
  for (const x of counts) {
    c.running += x.running;
    c.uninterruptible += x.uninterruptible;
    c.total += x.total;
    c.ctxt += x.ctxt;
    if (x.lastPid > c.lastPid) c.lastPid = x.lastPid;
  }
  return c;
}

export class LoadTracker {
  private avg: [number, number, number] = [0, 0, 0];
  private scan: TaskCounts | undefined;
  private scannedAt = -Infinity;
  private sampledAt = -Infinity;
  /** `scan` counts the tasks the load is made of (one cgroup, or every pod of a vNode). */
  constructor(private readonly scanTasks: () => TaskCounts) {}

  /** One cgroup's tasks, PIDs as seen at PID namespace depth `nsLevel`. */
  static ofCgroup(cg: CgroupReader, nsLevel: number): LoadTracker {
    return new LoadTracker(() => countTasks(cg, nsLevel));
  }

  /**
   * Folds one sample into the averages (called every SAMPLE_INTERVAL_MS). A tracker
   * shared by several entries is asked once per entry: only the first call of an
   * interval counts.
   */
  sample(now = performance.now()): void {
    if (now - this.sampledAt < SAMPLE_INTERVAL_MS / 2) return;
    this.sampledAt = now;
    const c = this.tasks(true);
    this.fold(c.running + c.uninterruptible);
  }

  /** The latest task scan, refreshed if older than a second (or when `fresh`). */
  tasks(fresh = false): TaskCounts {
    const now = performance.now();
    if (fresh || !this.scan || now - this.scannedAt > SCAN_TTL_MS) {
      this.scan = this.scanTasks();
      this.scannedAt = now;
    }
    return this.scan;
  }

  fold(active: number): void {
    this.avg = this.avg.map((a, i) => a * DECAY[i]! + active * (1 - DECAY[i]!)) as [number, number, number];
  }

  snapshot(): LoadSnapshot {
    const c = this.tasks();
    return { avg: [...this.avg], running: c.running, total: c.total, lastPid: c.lastPid, ctxt: c.ctxt };
  }
}
