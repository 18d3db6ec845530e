// Where the manager of one containerd instance lives. Several containerd instances
// can run side by side (tests do), each with its own manager: the instance is named
// by a short hash of containerd's gRPC address.
//
//   <run dir>/<id>/manager.sock   the Task API (ttrpc) every shim call of that containerd uses
//   <run dir>/<id>/manager.pid    "<pid> <starttime>" of the manager the shim spawned
//   <run dir>/<id>/manager.log    the manager's stdout/stderr
//   <run dir>/<id>/shim.log       `start`/`delete` diagnostics (with -debug)
//
// <run dir> is /run/vnode, or VNODE_RUN_DIR.
import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { socketPath } from '../ttrpc/index.js';

export const DEFAULT_RUN_DIR = '/run/vnode';

/** Environment the shim gives the manager it spawns. */
export const ManagerEnv = {
  /** Path of the socket to serve the Task API on. */
  socket: 'VNODE_MANAGER_SOCKET',
  /** containerd's gRPC address (the shim's -address). */
  containerdAddress: 'VNODE_CONTAINERD_ADDRESS',
  /** containerd's ttrpc address, where events are forwarded (TTRPC_ADDRESS). */
  containerdTtrpcAddress: 'VNODE_CONTAINERD_TTRPC_ADDRESS',
} as const;

export interface ManagerInstance {
  id: string;
  dir: string;
  socket: string;
  pidFile: string;
  logFile: string;
  shimLog: string;
  /** Responses of tasks the manager deleted, for `delete` (src/taskapi Tombstones). */
  tombstones: string;
  /** Abstract unix socket name held while one `start` spawns the manager. */
  lockName: string;
}

/** 12 hex digits of sha256 of containerd's (normalised) gRPC address. */
export function instanceId(containerdAddress: string): string {
  const normalised = resolve(socketPath(containerdAddress));
  return createHash('sha256').update(normalised).digest('hex').slice(0, 12);
}

export function managerInstance(containerdAddress: string, env: NodeJS.ProcessEnv = process.env): ManagerInstance {
  const id = instanceId(containerdAddress);
  const dir = join(env.VNODE_RUN_DIR || DEFAULT_RUN_DIR, id);
  return {
    id,
    dir,
    socket: join(dir, 'manager.sock'),
    pidFile: join(dir, 'manager.pid'),
    logFile: join(dir, 'manager.log'),
    shimLog: join(dir, 'shim.log'),
    tombstones: join(dir, 'deleted'),
    lockName: `\0vnode-shim-start-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`,
  };
}
