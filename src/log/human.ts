// The CLI's form of log records: one plain line per record on stderr,
// "<component>: <message> (pod=…, vnode=…)", as a person at a terminal reads them.
// A small formatter of our own instead of pino-pretty: the CLI needs one line layout,
// not colours, templates or a dozen more packages.
import { pino } from 'pino';
import { levelFromEnv, stderrDestination, type LogDestination, type LogLevel, type Logger } from './logger.js';

/**
 * Record keys that are not shown as fields: pino's own, the message, the prefix, and an
 * error's stable code (for programs: in the JSON form and the exit status).
 */
const NOT_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'name', 'msg', 'component', 'err', 'code']);
/** Shown first, in this order; any other field follows in the record's order. */
const FIELD_ORDER = ['pod', 'vnode', 'task', 'exec'];

/**
 * One record as a line (with its newline). Fields whose value the message already
 * names are not repeated: "pod default/web not found" needs no "(pod=default/web)".
 */
export function formatHuman(record: Record<string, unknown>): string {
  const msg = String(record['msg'] ?? '');
  const component = record['component'];
  let line = typeof component === 'string' && component ? `${component}: ${msg}` : msg;
  const err = record['err'] as { message?: string } | undefined;
  if (err?.message && !msg.includes(err.message)) line += `: ${err.message}`;
  const keys = [...FIELD_ORDER.filter((k) => k in record), ...Object.keys(record).filter((k) => !FIELD_ORDER.includes(k) && !NOT_FIELDS.has(k))];
  const shown: string[] = [];
  for (const k of keys) {
    const v = record[k];
    if (v === undefined || v === null || v === '') continue;
    const text = typeof v === 'string' ? v : JSON.stringify(v);
    if (!line.includes(text)) shown.push(`${k}=${text}`);
  }
  return `${shown.length ? `${line} (${shown.join(', ')})` : line}\n`;
}

/** A destination that renders pino's JSON lines with formatHuman and hands them to `out`. */
export function humanDestination(out: LogDestination = stderrDestination()): LogDestination {
  return {
    write: (line: string) => {
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(line) as Record<string, unknown>;
      } catch {
        return void out.write(line);
      }
      out.write(formatHuman(record));
    },
  };
}

export interface CliLoggerOptions {
  /** Default: stderr. */
  destination?: LogDestination;
  level?: LogLevel;
  /** "json" for JSON lines (VNODE_LOG_FORMAT=json), else plain lines. */
  format?: 'human' | 'json';
}

/** The CLI's logger: plain lines on stderr, or JSON lines with VNODE_LOG_FORMAT=json. */
export function cliLogger(o: CliLoggerOptions = {}): Logger {
  const format = o.format ?? (process.env.VNODE_LOG_FORMAT === 'json' ? 'json' : 'human');
  const out = o.destination ?? stderrDestination();
  return pino(
    {
      level: o.level ?? levelFromEnv(),
      // plain lines carry no time or pid; JSON lines do, as the manager's do
      base: format === 'json' ? { pid: process.pid, name: 'vnode' } : null,
      timestamp: format === 'json' ? pino.stdTimeFunctions.isoTime : false,
      formatters: { level: (label) => ({ level: label }) },
    },
    format === 'json' ? out : humanDestination(out),
  );
}
