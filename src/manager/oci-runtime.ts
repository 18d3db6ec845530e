// Drives the OCI runtime (runc or crun) for containers of a vNode. The runtime runs
// inside the vNode's PID namespace (so a pod's own PID namespace becomes a child of
// the vNode's) with a private mount namespace whose /proc belongs to that PID
// namespace (runc resolves /proc/<its own pid>/...), through vnode-runtime-exec
// (native/), which also installs vnode's seccomp filter for calls that start
// processes. When it exits, the processes it started are reparented to the vNode's
// init, which records their exit status.
import { spawn, type StdioOptions } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { filteredCommand, takeListener } from '../seccomp/index.js';

/**
 * What a failed runtime call was about, read from the runtime's JSON log (or its
 * stderr when it logged nothing): callers decide by kind, never by the message text.
 */
export type RuntimeFailure = 'not-found' | 'not-running' | 'already-finished' | 'failed';

const FAILURE_CODES = {
  'not-found': 'VNODE_RUNTIME_NOT_FOUND',
  'not-running': 'VNODE_RUNTIME_NOT_RUNNING',
  'already-finished': 'VNODE_RUNTIME_ALREADY_FINISHED',
  failed: 'VNODE_RUNTIME_FAILED',
} as const;

export class RuntimeError extends Error {
  override name = 'RuntimeError';
  readonly code: string;
  constructor(
    message: string,
    readonly exitCode: number | null,
    readonly kind: RuntimeFailure = 'failed',
  ) {
    super(message);
    this.code = FAILURE_CODES[kind];
  }
}

/**
 * The kind of failure runc or crun reported. runc (libcontainer) says "container does
 * not exist" / "container not found" for an unknown id, "container not running" for
 * a stopped one, and Go's "process already finished" for a signal to a reaped process.
 */
export function classifyFailure(why: string): RuntimeFailure {
  if (/process already finished/.test(why)) return 'already-finished';
  if (/not running/.test(why)) return 'not-running';
  if (/does not exist|not found/.test(why)) return 'not-found';
  return 'failed';
}

export interface RunOptions {
  /** stdio for the runtime; passed on to the container process for create/exec without a terminal. */
  stdio?: StdioOptions;
  input?: string;
  timeoutMs?: number;
  /**
   * Run the runtime under vnode's seccomp filter: it and the container or exec'd
   * process it starts inherit it. `onListener` receives the filter's notification
   * listener, a descriptor of this process from then on.
   */
  seccomp?: { onListener: (fd: number) => void };
}

export interface OciRuntimeOptions {
  /** runc or crun binary. */
  binary: string;
  /** --root of the runtime's state. */
  root: string;
  /** Directory for per-call log files. */
  logDir: string;
  /** native/vnode-runtime-exec. */
  execHelper: string;
}

function findBinary(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(':')) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The OCI runtime binary itself is missing (not a container the runtime does not know). */
export class RuntimeNotFoundError extends RuntimeError {
  override name = 'RuntimeNotFoundError';
  override readonly code = 'VNODE_RUNTIME_MISSING';
}

/** Picks the OCI runtime: VNODE_RUNTIME, else runc, else crun. Throws with what to install. */
export function resolveRuntime(wanted = process.env.VNODE_RUNTIME): string {
  if (wanted) {
    const p = wanted.includes('/') ? (existsSync(wanted) ? wanted : undefined) : findBinary(wanted);
    if (!p) throw new RuntimeNotFoundError(`OCI runtime "${wanted}" not found; install it, or fix BinaryName in the runtime's options / VNODE_RUNTIME`, null);
    return p;
  }
  const p = findBinary('runc') ?? findBinary('crun');
  if (!p) throw new RuntimeNotFoundError('no OCI runtime found: install runc (apt-get install runc) or crun, or set VNODE_RUNTIME', null);
  return p;
}

export class OciRuntime {
  constructor(private readonly o: OciRuntimeOptions) {}

  get binary(): string {
    return this.o.binary;
  }

  /** Runs `<runtime> --root R <args>` inside the vNode whose init has host PID `initPid`. */
  run(initPid: number, args: string[], opts: RunOptions = {}): Promise<string> {
    const log = join(this.o.logDir, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
    const runtime = [this.o.binary, '--root', this.o.root, '--log', log, '--log-format', 'json', ...args];
    const inVnode = ['--pid-ns-of', String(initPid)];
    const sc = opts.seccomp;
    const base = (opts.stdio as StdioOptions[] | undefined) ?? ['pipe', 'pipe', 'pipe'];
    const { argv, stdio } = sc ? filteredCommand(this.o.execHelper, runtime, base, inVnode) : { argv: [this.o.execHelper, ...inVnode, '--', ...runtime], stdio: base };
    return new Promise((resolve, reject) => {
      const child = spawn(argv[0]!, argv.slice(1), { stdio: stdio as StdioOptions });
      if (sc) takeListener(child, sc.onListener);
      let out = '';
      let err = '';
      child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      if (child.stdin) {
        // The runtime may exit without reading its input (an error): EPIPE is not ours to report.
        child.stdin.on('error', () => undefined);
        child.stdin.end(opts.input ?? '');
      }
      const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(new RuntimeError(`cannot start ${argv[0]} for ${this.o.binary}: ${e.message}`, null));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const logged = readRuntimeLog(log);
        rmSync(log, { force: true });
        if (code === 0) return resolve(out);
        const why = logged || err.trim() || (signal ? `killed by ${signal}` : `exit code ${code}`);
        reject(new RuntimeError(`${this.o.binary.split('/').pop()} ${args[0]} failed: ${why}`, code, classifyFailure(why)));
      });
    });
  }
}

/** The error lines of a runtime's JSON log, joined: the runtime's own explanation. */
function readRuntimeLog(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return '';
  }
  const msgs: string[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const j = JSON.parse(line) as { level?: string; msg?: string };
      if ((j.level === 'error' || j.level === 'fatal') && j.msg) msgs.push(j.msg);
    } catch {
      msgs.push(line.trim());
    }
  }
  return msgs.join('; ');
}
