// Drives the OCI runtime (runc or crun) for containers of a vNode. The runtime runs
// inside the vNode's PID namespace (so a pod's own PID namespace becomes a child of
// the vNode's) with a private mount namespace whose /proc belongs to that PID
// namespace (runc resolves /proc/<its own pid>/...), through vnode-runtime-exec
// (native/), which also installs vnode's seccomp filter for calls that start
// processes. When it exits, the processes it started are reparented to the vNode's
// init, which records their exit status.
import { execFileSync, spawn, type StdioOptions } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostCgroupLayout, type CgroupLayout } from '../cgroup/index.js';
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
  /**
   * Files that read empty in the runtime's private mount namespace (vnode-runtime-exec
   * --read-empty); default: crunHiddenFiles for this binary and host.
   */
  readEmpty?: string[];
}

/** Where crun looks for a hybrid host's cgroup2 hierarchy (libcrun's CGROUP_ROOT "/unified"). */
export const CRUN_HYBRID_UNIFIED = '/sys/fs/cgroup/unified';

/**
 * The files crun must see empty to run on this host. crun (every version up to 1.2x)
 * refuses to create a container on a hybrid layout (/sys/fs/cgroup a tmpfs of v1
 * hierarchies, /sys/fs/cgroup/unified cgroup2) when
 * /sys/fs/cgroup/unified/cgroup.controllers lists any controller ("cgroups in hybrid
 * mode not supported, drop all controllers from cgroupv2"): it drives only the v1
 * hierarchies there and will not leave a v2 controller unmanaged. A controller no v1
 * hierarchy binds (hugetlb on a host that mounts no hugetlb hierarchy) stays in v2; no
 * runtime can set its limits through v1 on such a host anyway (runc neither), so crun
 * is shown an empty file and otherwise behaves as on any hybrid host (v1 limits, the
 * container joins the cgroup2 hierarchy too). `unifiedControllers`: that file's text.
 */
export function crunHiddenFiles(isCrun: boolean, layout: CgroupLayout, unifiedControllers: string | undefined): string[] {
  if (!isCrun || layout.mode !== 'hybrid' || layout.unified !== CRUN_HYBRID_UNIFIED) return [];
  return unifiedControllers?.trim() ? [join(CRUN_HYBRID_UNIFIED, 'cgroup.controllers')] : [];
}

/** Is `binary` crun? Its --version says "crun version …" (a wrapper script named runc can be). */
export function isCrunBinary(binary: string): boolean {
  try {
    return /^crun version /m.test(execFileSync(binary, ['--version'], { encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'ignore'] }));
  } catch {
    return /crun/.test(binary.split('/').pop() ?? '');
  }
}

function hostCrunHiddenFiles(binary: string): string[] {
  const layout = hostCgroupLayout();
  if (layout.mode !== 'hybrid') return [];
  let controllers: string | undefined;
  try {
    controllers = readFileSync(join(CRUN_HYBRID_UNIFIED, 'cgroup.controllers'), 'utf8');
  } catch {
    return [];
  }
  return crunHiddenFiles(isCrunBinary(binary), layout, controllers);
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
  private readEmpty: string[] | undefined;

  constructor(private readonly o: OciRuntimeOptions) {
    this.readEmpty = o.readEmpty;
  }

  get binary(): string {
    return this.o.binary;
  }

  /** Runs `<runtime> --root R <args>` inside the vNode whose init has host PID `initPid`. */
  run(initPid: number, args: string[], opts: RunOptions = {}): Promise<string> {
    const log = join(this.o.logDir, `${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
    const runtime = [this.o.binary, '--root', this.o.root, '--log', log, '--log-format', 'json', ...args];
    this.readEmpty ??= hostCrunHiddenFiles(this.o.binary);
    const inVnode = ['--pid-ns-of', String(initPid), ...this.readEmpty.flatMap((f) => ['--read-empty', f])];
    const sc = opts.seccomp;
    // Input goes in as a file: node's 'pipe' is a socketpair, and crun reads "-" by
    // opening /dev/stdin, which a socket refuses (ENXIO); runc reads fd 0 either way.
    const inputFile = opts.input !== undefined && !opts.stdio ? `${log}.in` : undefined;
    let inputFd: number | undefined;
    if (inputFile) {
      writeFileSync(inputFile, opts.input!, { mode: 0o600 });
      inputFd = openSync(inputFile, 'r');
    }
    const base = (opts.stdio as StdioOptions[] | undefined) ?? ([inputFd ?? 'pipe', 'pipe', 'pipe'] as StdioOptions[]);
    const { argv, stdio } = sc ? filteredCommand(this.o.execHelper, runtime, base, inVnode) : { argv: [this.o.execHelper, ...inVnode, '--', ...runtime], stdio: base };
    return new Promise((resolve, reject) => {
      const dropInput = () => {
        if (inputFile) rmSync(inputFile, { force: true });
      };
      let child: ReturnType<typeof spawn>;
      try {
        child = spawn(argv[0]!, argv.slice(1), { stdio: stdio as StdioOptions });
      } catch (e) {
        dropInput();
        throw e;
      } finally {
        if (inputFd !== undefined) closeSync(inputFd);
        inputFd = undefined;
      }
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
        dropInput();
        reject(new RuntimeError(`cannot start ${argv[0]} for ${this.o.binary}: ${e.message}`, null));
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        dropInput();
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
