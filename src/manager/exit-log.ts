// Follows a vNode's exit log: one line "<pid-in-vnode> <wait-status> <sec>.<nsec>" per
// process its init reaped. The file outlives the manager, so a restarted manager
// reads it from the start and learns every exit it missed.
import { closeSync, openSync, readSync, watch, type FSWatcher } from 'node:fs';

export interface ExitRecord {
  pid: number;
  /** Raw wait(2) status. */
  status: number;
  at: Date;
}

/** The exit code containerd reports: the code, or 128 + signal for a killed process. */
export function exitCodeOf(status: number): number {
  const sig = status & 0x7f;
  if (sig === 0) return (status >> 8) & 0xff;
  return 128 + sig;
}

export function parseExitLine(line: string): ExitRecord | undefined {
  const m = /^(\d+) (-?\d+) (\d+)\.(\d{9})$/.exec(line.trim());
  if (!m) return undefined;
  const ms = Number(m[3]) * 1000 + Math.floor(Number(m[4]) / 1e6);
  return { pid: Number(m[1]), status: Number(m[2]), at: new Date(ms) };
}

export class ExitLog {
  private offset = 0;
  private partial = '';
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;

  constructor(
    private readonly path: string,
    private readonly onExit: (r: ExitRecord) => void,
  ) {}

  start(): void {
    this.drain();
    this.watcher = watch(this.path, () => this.drain());
    this.watcher.on('error', () => undefined);
    // inotify can miss nothing here, but a slow poll costs little and covers a watch
    // that could not be set up (e.g. the file was replaced).
    this.poll = setInterval(() => this.drain(), 2000);
    this.poll.unref();
  }

  stop(): void {
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
  }

  /** Reads what was appended since the last call and reports each complete line. */
  drain(): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return;
    }
    try {
      const buf = Buffer.alloc(64 * 1024);
      for (;;) {
        const n = readSync(fd, buf, 0, buf.length, this.offset);
        if (n <= 0) break;
        this.offset += n;
        this.partial += buf.subarray(0, n).toString('utf8');
      }
    } finally {
      closeSync(fd);
    }
    const lines = this.partial.split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      const r = parseExitLine(line);
      if (r) this.onExit(r);
    }
  }
}
