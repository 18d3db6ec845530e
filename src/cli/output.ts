// Output helpers shared by the commands: kubectl-style tables, ages, progress lines.
import { cliLogger } from '../log/index.js';
import { cliLog } from './log.js';

/** Columns separated by three spaces, padded to the widest cell (like kubectl get / crictl ps). */
export function formatTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('   ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n') + '\n';
}

/** kubectl's short age: 45s, 5m, 3h, 2d (a simplified HumanDuration) (and "<unknown>" for a bad date). */
export function formatAge(since: string | Date, now: Date = new Date()): string {
  const t = typeof since === 'string' ? Date.parse(since) : since.getTime();
  if (!Number.isFinite(t)) return '<unknown>';
  const s = Math.max(0, Math.floor((now.getTime() - t) / 1000));
  if (s < 120) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60 * 3) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h`;
  return `${Math.floor(h / 24)}d`;
}

export type Progress = (step: string) => void;

/** One line per long step on stderr ("starting containerd 2.1.9…"), through the CLI's logger; quiet with --quiet. */
export function progressTo(stream: NodeJS.WritableStream = process.stderr, quiet = false): Progress {
  const log = stream === process.stderr ? cliLog() : cliLogger({ destination: { write: (s: string) => void stream.write(s) } });
  return (step) => {
    if (!quiet) log.info(step);
  };
}

/** Parses a duration: "90", "90s", "5m", "1h30m", "250ms" → milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const t = text.trim();
  if (/^\d+(\.\d+)?$/.test(t)) return Number(t) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(t); m; m = re.exec(t)) {
    total += Number(m[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[m[2] as 'ms' | 's' | 'm' | 'h'];
    matched = re.lastIndex;
  }
  if (matched === 0 || matched !== t.length) throw new Error(`${flag}: invalid duration "${text}" (examples: 30s, 5m, 1h)`);
  return total;
}
