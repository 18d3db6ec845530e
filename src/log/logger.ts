// The one structured logger (pino) that every component logs through. The manager
// writes JSON lines to its stderr (containerd's shim `start` points it at manager.log);
// the CLI renders the same records as plain lines (human.ts). Components take a
// Logger and log with child loggers that carry the fields below, so that a line says
// which pod, vNode, task and exec it is about without parsing its text.
import { appendFileSync } from 'node:fs';
import { pino, type DestinationStream, type Logger as PinoLogger } from 'pino';

export type Logger = PinoLogger;

/** The fields a log record may carry besides its message; child loggers bind them. */
export interface LogFields {
  /** The pod as "<namespace>/<name>". */
  pod?: string;
  /** The vNode's name. */
  vnode?: string;
  /** The containerd task id (a container or sandbox). */
  task?: string;
  /** The exec id within the task. */
  exec?: string;
  /** Which part of vnode logs: "manager", "seccomp", "vnodefs", "shim", "cli", … */
  component?: string;
}

/** Where records go: anything with write(line). */
export type LogDestination = DestinationStream;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** VNODE_LOG_LEVEL if it names a level, else `fallback`. */
export function levelFromEnv(env: NodeJS.ProcessEnv = process.env, fallback: LogLevel = 'info'): LogLevel {
  const v = env.VNODE_LOG_LEVEL?.trim().toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(v ?? '') ? (v as LogLevel) : fallback;
}

export interface JsonLoggerOptions {
  /** The program, as the record's `name` ("vnode-manager"). */
  name: string;
  /** Default: this process's stderr. */
  destination?: LogDestination;
  level?: LogLevel;
  /** Fields every record of this logger carries. */
  fields?: LogFields;
}

/**
 * JSON lines: {"level":"info","time":"<ISO 8601>","pid":…,"name":…,<fields>,"msg":…}.
 * Level names rather than pino's numbers, and ISO times: the file is read by people
 * with grep as often as by programs.
 */
export function jsonLogger(o: JsonLoggerOptions): Logger {
  return pino(
    {
      level: o.level ?? levelFromEnv(),
      base: { pid: process.pid, name: o.name, ...o.fields },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    o.destination ?? stderrDestination(),
  );
}

/**
 * process.stderr as it is at each write (tests may replace it), written the way Node
 * writes stderr: synchronously for files and terminals, so nothing is lost when the
 * process exits or is killed right after a line.
 */
export function stderrDestination(): LogDestination {
  return { write: (line: string) => void process.stderr.write(line) };
}

/**
 * Appends to a file, best effort: a line that cannot be written is dropped (the shim's
 * `start` must never fail, nor write anything but its address, because of a log line).
 */
export function fileDestination(path: string, mode = 0o600): LogDestination {
  return {
    write: (line: string) => {
      try {
        appendFileSync(path, line, { mode });
      } catch {
        /* dropped */
      }
    },
  };
}

/** A Logger that writes nothing (the on-disk cleanup of the shim's delete, which has no log). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A Logger whose records reach `fn` as their message text only (for tests and plain callbacks). */
export function callbackLogger(fn: (msg: string) => void): Logger {
  return pino({ level: 'trace', base: null, timestamp: false }, {
    write: (line: string) => {
      try {
        fn(String((JSON.parse(line) as { msg?: unknown }).msg ?? ''));
      } catch {
        fn(line.trimEnd());
      }
    },
  });
}

/** A `(msg) => void` callback for code that takes one (the manager's TaskService). */
export function logFunction(logger: Logger, level: 'info' | 'warn' | 'error' | 'debug' = 'info'): (msg: string) => void {
  return (msg) => logger[level](msg);
}
