// Times the steps of a long Task API call, so a slow one says in the manager's log which
// step took the time (containerd only sees "context deadline exceeded").

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

  /** "runtime delete 41.2s, unmount 0.1s, …", steps over 50 ms only. */
  summary(): string {
    return this.steps.filter(([, ms]) => ms >= 50).map(([n, ms]) => `${n} ${(ms / 1000).toFixed(1)}s`).join(', ') || 'every step under 50 ms';
  }
}
