// Facts about host processes read from /proc (the manager runs in the host's PID namespace).
import { readFileSync } from 'node:fs';

/** Start time (clock ticks since boot) of a process: with its PID, an identity that survives PID reuse. */
export function startTimeOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19];
  } catch {
    return undefined;
  }
}

/**
 * The pid a pid file records as "<pid> <start time>", if that very process still runs
 * (a reused pid does not count; a record without a start time matches the pid alone).
 */
export function livePidInFile(file: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  const [pidText, start] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  return Number.isInteger(pid) && pid > 0 && isAlive(pid, start || undefined) ? pid : undefined;
}

export function isAlive(pid: number, startTime?: string): boolean {
  const st = startTimeOf(pid);
  if (st === undefined) return false;
  if (startTime !== undefined && st !== startTime) return false;
  // a zombie is gone for our purposes
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    return !/^State:\s+Z/m.test(status);
  } catch {
    return false;
  }
}

/** PIDs of a process in each PID namespace from the host's down (NSpid). */
export function nsPids(pid: number): number[] {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /^NSpid:\s+(.+)$/m.exec(status);
    return m ? m[1]!.trim().split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

/** Host PIDs of the direct children of a process. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** Whether capability `bit` is in the CapEff line of a /proc/<pid>/status text. */
export function hasEffectiveCap(status: string, bit: number): boolean {
  const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(status);
  return m ? ((BigInt(`0x${m[1]}`) >> BigInt(bit)) & 1n) === 1n : false;
}
