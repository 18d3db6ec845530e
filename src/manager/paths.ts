// Where a manager keeps things. One manager serves one containerd instance; its
// directory is the one holding its socket (/run/vnode/<instance>/), so managers of
// instances running side by side never share state. The ID pool is node-wide.
import { dirname, join } from 'node:path';

export interface InstancePaths {
  dir: string;
  socket: string;
  /** OCI runtime state (runc --root). */
  runtimeRoot: string;
  /** JSON records of vNodes and tasks, reloaded when the manager restarts. */
  state: string;
  vnodes: string;
  /** Per-container mount points: ID-mapped layers, root filesystems, ID-mapped pod files. */
  mounts: string;
  /** Node-wide ID range leases, shared by every manager. */
  idPool: string;
  /** Persistent per-vNode data (hostPath volumes resolve here). */
  data: string;
  /** Responses of deleted tasks for the shim's `delete` (tombstones.ts). */
  deleted: string;
  /** "<pid> <start time>" of the manager serving the socket (the shim's C front checks it). */
  pidFile: string;
}

export function instancePaths(socket: string, env: NodeJS.ProcessEnv = process.env): InstancePaths {
  const dir = dirname(socket);
  const instance = dir.split('/').pop() ?? 'default';
  return {
    dir,
    socket,
    runtimeRoot: join(dir, 'runtime'),
    state: join(dir, 'state'),
    vnodes: join(dir, 'vnodes'),
    mounts: join(dir, 'mounts'),
    idPool: env.VNODE_ID_POOL_DIR ?? '/run/vnode/idpool',
    data: join(env.VNODE_DATA_DIR ?? '/var/lib/vnode', instance),
    deleted: join(dir, 'deleted'), // = ManagerInstance.tombstones
    pidFile: join(dir, 'manager.pid'), // = ManagerInstance.pidFile
  };
}
