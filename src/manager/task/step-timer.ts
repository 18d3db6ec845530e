// Times the steps of a long Task API call, so a slow one says in the manager's log which
// step took the time (containerd only sees "context deadline exceeded").
import type { TaskRecord } from '../task-store.js';
import type { TaskDeps } from './deps.js';

/** A step slower than this makes the whole call's timings a warning. */
export const SLOW_STEP_MS = 2000;

export class StepTimer {
  private readonly steps: [string, number][] = [];
  private last = performance.now();
  private readonly start = this.last;

  /** Ends the step running since the previous mark (or the start) and names it. */
  mark(step: string): void {
    const now = performance.now();
    this.steps.push([step, now - this.last]);
    this.last = now;
  }

  totalMs(): number {
    return performance.now() - this.start;
  }

  /** The slowest step, if it took longer than `SLOW_STEP_MS`. */
  slowest(): [string, number] | undefined {
    const s = [...this.steps].sort((a, b) => b[1] - a[1])[0];
    return s && s[1] > SLOW_STEP_MS ? s : undefined;
  }

  /** Every step in ms, for a debug record: { "runtime create": 48.1, … }. */
  detail(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [n, ms] of this.steps) out[n] = Math.round((out[n] ?? 0) + ms * 10) / 10;
    return out;
  }

  /** "runtime delete 41.2s, unmount 0.1s, …", steps over 50 ms only. */
  summary(): string {
    return this.steps.filter(([, ms]) => ms >= 50).map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)}s`).join(', ') || 'every step under 50 ms';
  }
}

/**
 * Logs a call's step times: a warning naming the slowest step when one took over
 * SLOW_STEP_MS, else a debug record with every step in ms (what a pod start profile reads).
 */
export function logSteps(d: TaskDeps, t: TaskRecord, call: string, steps: StepTimer): void {
  const slow = steps.slowest();
  const took = `${call} ${t.id}: ${(steps.totalMs() / 1000).toFixed(1)}s (${steps.summary()})`;
  if (slow) d.logFor(t).warn({ steps: steps.summary() }, `${took}; slowest step: ${slow[0]}`);
  else d.logFor(t).debug({ call, stepsMs: steps.detail(), totalMs: Math.round(steps.totalMs() * 10) / 10 }, took);
}
