// Reading cgroupfs (and procfs) files: small, generated in memory by the kernel, read
// whole and synchronously. vnodefs reads through a short cache (readText); the Task
// API's stats read fresh (readFresh).
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';

// One buffer for every read: cgroupfs and procfs files are small and read whole.
let scratch = Buffer.allocUnsafe(64 * 1024);

function readWhole(path: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    let n = 0;
    for (;;) {
      if (n === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2);
        scratch.copy(bigger, 0, 0, n);
        scratch = bigger;
      }
      const r = readSync(fd, scratch, n, scratch.length - n, null);
      if (r === 0) break;
      n += r;
    }
    return scratch.toString('latin1', 0, n);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/**
 * Values are re-read at most every `cacheTtlMs` per path (the kernel's own counters
 * behind them are batched per CPU anyway). Many readers opening the same file at once
 * then cost one set of reads, not one per reader. 0 disables the cache.
 */
let cacheTtlMs = 100;
const cache = new Map<string, { at: number; text: string | undefined; firstSeen: number }>();
let lastSweep = 0;

export function readCacheTtl(): number {
  return cacheTtlMs;
}

/** Whether a cached value first read at `firstSeen` may be served at `now` (see FRESH_AT_FIRST). */
export function pastFreshPeriod(firstSeen: number, now: number): boolean {
  return now - firstSeen >= FRESH_FOR_MS;
}

export function setReadCacheTtl(ms: number): void {
  cacheTtlMs = ms;
  cache.clear();
}

/**
 * Limits and memberships are read fresh for their first second: the runtime sets a
 * container's limits (and moves its process into the cgroup) after it has mounted our
 * files, and the lookups it makes then must not leave "unlimited" in the cache for the
 * container's first reads. After that they are cached like the rest: a limit changed by
 * an update shows within the cache period.
 */
const FRESH_AT_FIRST = /(\.limit_in_bytes|\/memory\.max|\/memory\.swap\.max|\/cpu\.cfs_quota_us|\/cpu\.cfs_period_us|\/cpu\.max|\/cpuset\.cpus|\/cpuset\.effective_cpus|\/cpuset\.cpus\.effective|\/cgroup)$/;
const FRESH_FOR_MS = 1000;

export function readText(path: string, ttlMs = cacheTtlMs): string | undefined {
  if (ttlMs <= 0 || cacheTtlMs <= 0) return readWhole(path);
  const now = performance.now();
  const hit = cache.get(path);
  if (hit && now - hit.at < ttlMs && (pastFreshPeriod(hit.firstSeen, now) || !FRESH_AT_FIRST.test(path))) return hit.text;
  if (now - lastSweep > 10_000) {
    lastSweep = now;
    for (const [k, v] of cache) if (now - v.at > 10_000) cache.delete(k);
  }
  const text = readWhole(path);
  cache.set(path, { at: now, text, firstSeen: cache.get(path)?.firstSeen ?? now });
  return text;
}

/** A single number from a file; "max" and v1's huge "unlimited" values give null. */
export function readLimit(path: string): number | null | undefined {
  const t = readText(path)?.trim();
  if (t === undefined) return undefined;
  if (t === 'max' || t === '-1') return null;
  const n = Number(t);
  if (!Number.isFinite(n)) return undefined;
  // v1 reports "no limit" as PAGE_COUNTER_MAX * PAGE_SIZE (9223372036854771712).
  return n >= 2 ** 62 ? null : n;
}

export function readNumber(path: string): number | undefined {
  const t = readText(path)?.trim();
  if (t === undefined || t === '') return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat). */
export function readKeyed(path: string): Map<string, number> {
  const m = new Map<string, number>();
  const t = readText(path);
  if (!t) return m;
  for (const line of t.split('\n')) {
    const sp = line.indexOf(' ');
    if (sp <= 0) continue;
    const v = Number(line.slice(sp + 1));
    if (Number.isFinite(v)) m.set(line.slice(0, sp), v);
  }
  return m;
}

/** Parses a CPU list like "0-3,8,10-11". */
export function parseCpuList(s: string): number[] {
  const out: number[] = [];
  for (const part of s.trim().split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) continue;
    for (let i = lo; i <= hi; i++) out.push(i);
  }
  return out;
}

/** The file's text, read now (no cache), or undefined if it cannot be read. */
export function readFresh(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
