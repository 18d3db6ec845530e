// `containerd-shim-vnode-v2 start`: make sure the one manager of this containerd
// instance runs, and print its address.
//
// Exactly one manager per instance, even when containerd runs many `start`s at once:
// a `start` that finds no answering manager takes an abstract unix socket as a lock
// (the kernel releases it when the holder dies, so it cannot go stale), checks again,
// removes a stale socket file, spawns `vnode-manager` detached (setsid, stdio to
// manager.log) and waits, still holding the lock, until the manager answers. The
// others wait for the answer. A manager that is alive but slow (its pid and start
// time in manager.pid still match /proc) is waited for, never replaced.
//
// containerd reads the address from stdout *and* stderr (CombinedOutput), so nothing
// but the address may be written on success.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, realpathSync, unlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { livePidInFile, startTimeOf } from '../sys/index.js';
import { Code, RpcError, TtrpcClient } from '../ttrpc/index.js';
import type { ShimArgs } from './args.js';
import { ManagerEnv, managerInstance, type ManagerInstance } from './instance.js';

export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  /** Overall time to get an answering manager (default 20 s, or VNODE_SHIM_START_TIMEOUT_MS). */
  timeoutMs?: number;
  log?: (msg: string) => void;
}


/** Ensures the manager answers; returns its instance. */
export async function ensureManager(args: ShimArgs, o: StartOptions = {}): Promise<ManagerInstance> {
  const env = o.env ?? process.env;
  const log = o.log ?? (() => {});
  if (!args.address) throw new Error('start: -address (containerd gRPC address) is required');
  const inst = managerInstance(args.address, env);
  mkdirSync(inst.dir, { recursive: true, mode: 0o711 });
  const timeoutMs = o.timeoutMs ?? (Number(env.VNODE_SHIM_START_TIMEOUT_MS) || 20_000);
  const deadline = Date.now() + timeoutMs;
  let lock: net.Server | undefined;
  let spawned: number | undefined;
  try {
    for (;;) {
      if (await ping(inst.socket, Math.min(2000, Math.max(100, deadline - Date.now())))) return inst;
      lock ??= await tryLock(inst.lockName);
      if (lock) {
        const alive = managerAlive(inst);
        if (alive === undefined) {
          if (spawned !== undefined) {
            throw new Error(`vnode-manager (pid ${spawned}) exited before answering on ${inst.socket}; ${logTail(inst.logFile)}`);
          }
          if (existsSync(inst.socket)) {
            log(`removing stale manager socket ${inst.socket}`);
            unlinkSync(inst.socket);
          }
          spawned = spawnManager(inst, args, env);
          log(`spawned vnode-manager pid ${spawned} for ${args.address}`);
        }
      }
      if (Date.now() >= deadline) {
        const alive = managerAlive(inst);
        throw new Error(
          alive !== undefined
            ? `vnode-manager pid ${alive} does not answer on ${inst.socket} after ${timeoutMs} ms; ${logTail(inst.logFile)}`
            : `no vnode-manager answers on ${inst.socket} after ${timeoutMs} ms${lock ? '' : ' (another start holds the spawn lock)'}`,
        );
      }
      await sleep(lock ? 20 : 50);
    }
  } finally {
    lock?.close();
  }
}

/**
 * True when a ttrpc server answers on the socket with the Task service registered:
 * a Connect with an empty id may fail (NotFound, ...), but any answer other than
 * "service not registered" means the manager is serving.
 */
export async function ping(socket: string, timeoutMs = 1000): Promise<boolean> {
  if (!existsSync(socket)) return false;
  const c = new TtrpcClient(socket, { connectTimeoutMs: timeoutMs });
  try {
    await c.call('containerd.task.v2.Task', 'Connect', new Uint8Array(0), { timeoutMs });
    return true;
  } catch (err) {
    if (!(err instanceof RpcError)) return false;
    if (err.code === Code.Unavailable || err.code === Code.DeadlineExceeded || err.code === Code.Canceled) return false;
    if (err.code === Code.Unimplemented && err.message.startsWith('service ')) return false;
    return true;
  } finally {
    c.close();
  }
}

function tryLock(name: string): Promise<net.Server | undefined> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(undefined));
    s.listen(name, () => resolve(s));
  });
}

/** The manager's pid if the process recorded in manager.pid is still that process. */
export function managerAlive(inst: ManagerInstance): number | undefined {
  return livePidInFile(inst.pidFile);
}

/**
 * V8 flags for the long-lived manager: a small young generation keeps its resident
 * memory near what it uses (the default lets it settle ~20 MB higher after bursts).
 */
export const MANAGER_NODE_FLAGS = ['--max-semi-space-size=1'];

/** The command that runs the manager: VNODE_MANAGER_BIN, else `vnode-manager` beside this launcher, else from PATH. */
export function managerCommand(env: NodeJS.ProcessEnv = process.env): string[] {
  if (env.VNODE_MANAGER_BIN) return [env.VNODE_MANAGER_BIN];
  const self = process.argv[1];
  if (self) {
    for (const dir of new Set([dirname(self), dirname(safeRealpath(self))])) {
      const candidate = join(dir, 'vnode-manager');
      if (existsSync(candidate)) return [process.execPath, ...MANAGER_NODE_FLAGS, candidate];
    }
  }
  return ['vnode-manager'];
}

function safeRealpath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

function spawnManager(inst: ManagerInstance, args: ShimArgs, env: NodeJS.ProcessEnv): number {
  const [cmd, ...cmdArgs] = managerCommand(env);
  const out = openSync(inst.logFile, 'a', 0o600);
  const childEnv: NodeJS.ProcessEnv = {
    ...env,
    // vnodefs keeps one libuv pool thread blocked reading /dev/fuse at all times.
    UV_THREADPOOL_SIZE: env.UV_THREADPOOL_SIZE ?? '8',
    [ManagerEnv.socket]: inst.socket,
    [ManagerEnv.containerdAddress]: args.address,
    [ManagerEnv.containerdTtrpcAddress]: args.ttrpcAddress,
    TTRPC_ADDRESS: args.ttrpcAddress,
    GRPC_ADDRESS: args.address,
  };
  delete childEnv.NAMESPACE; // one manager serves every namespace
  try {
    const child = spawn(cmd!, cmdArgs, { detached: true, stdio: ['ignore', out, out], env: childEnv, cwd: inst.dir });
    child.on('error', () => {}); // ENOENT etc. show up as "exited before answering"
    child.unref();
    const pid = child.pid;
    if (pid === undefined) throw new Error(`cannot run ${cmd}: not found or not executable`);
    writeFileSync(inst.pidFile, `${pid} ${startTimeOf(pid) ?? ''}\n`);
    return pid;
  } finally {
    closeSync(out);
  }
}

function logTail(path: string, bytes = 2000): string {
  try {
    const t = readFileSync(path, 'utf8');
    const tail = t.slice(-bytes).trim();
    return tail ? `manager log (${path}): ${tail}` : `manager log ${path} is empty`;
  } catch {
    return `no manager log at ${path}`;
  }
}

/** containerd 2.x writes the runtime options (a protobuf Any) to stdin; 1.x gives /dev/null. Read it so the writer never blocks. */
export function readStartOptions(): Uint8Array {
  try {
    const st = fstatSync(0);
    if (!st.isFIFO() && !st.isFile()) return new Uint8Array(0);
    return readFileSync(0);
  } catch {
    return new Uint8Array(0);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
