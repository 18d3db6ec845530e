// Follows CRI log files (what containerd writes for each container) and copies them to
// our stdout/stderr, like `kubectl logs -f` (with `--prefix` when the pod has several
// containers). CRI format, one entry per line:
//   <RFC3339Nano time> <stdout|stderr> <P|F>[:...] <text>
// P = partial line (continued by the next entry of the same stream), F = full line.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

export interface CriLogEntry {
  time: string;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  text: string;
}

/** Parses one CRI log line; undefined for a line that is not one. */
export function parseCriLogLine(line: string): CriLogEntry | undefined {
  const m = /^(\S+) (stdout|stderr) ([^ ]+) ?(.*)$/.exec(line);
  if (!m) return undefined;
  return { time: m[1]!, stream: m[2] as 'stdout' | 'stderr', partial: m[3]!.split(':')[0] === 'P', text: m[4]! };
}

export interface LogSink {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

/** Reads one container's log file from where it stopped last time. */
export class LogFollower {
  private offset = 0;
  private rest = '';
  /** Text of a partial (P) entry per stream, printed when its line completes. */
  private readonly pending = { stdout: '', stderr: '' };

  constructor(
    readonly path: string,
    private readonly prefix: string,
    private readonly sink: LogSink,
  ) {}

  /** Copies whatever is new; returns true when something was read. */
  poll(): boolean {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return false; // not created yet (container not started) or already removed
    }
    let any = false;
    try {
      const size = fstatSync(fd).size;
      if (size < this.offset) this.offset = 0; // rotated or truncated
      const buf = Buffer.alloc(64 * 1024);
      while (this.offset < size) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        any = true;
        this.consume(buf.subarray(0, n).toString('utf8'));
      }
    } finally {
      closeSync(fd);
    }
    return any;
  }

  private consume(chunk: string): void {
    const text = this.rest + chunk;
    const lines = text.split('\n');
    this.rest = lines.pop() ?? '';
    for (const line of lines) {
      const e = parseCriLogLine(line);
      if (!e) continue;
      if (e.partial) {
        this.pending[e.stream] += e.text;
        continue;
      }
      const full = this.pending[e.stream] + e.text;
      this.pending[e.stream] = '';
      this.sink[e.stream](`${this.prefix}${full}\n`);
    }
  }

  /** Last call: prints partial lines left without their end. */
  flush(): void {
    this.poll();
    for (const s of ['stdout', 'stderr'] as const) {
      if (this.pending[s]) this.sink[s](`${this.prefix}${this.pending[s]}\n`);
      this.pending[s] = '';
    }
  }
}
