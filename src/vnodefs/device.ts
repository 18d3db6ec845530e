// /dev/fuse descriptors and the mount itself. The mount is made by mount(8) with
// the descriptor inherited as fd 3 (`-o fd=3`); no libfuse, no fusermount.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, constants as F, openSync, readFileSync, writeFileSync } from 'node:fs';
import { ioctlU32Ptr } from '../sys/index.js';
import { FUSE_DEV_IOC_CLONE } from './protocol.js';

export const FS_TYPE = 'fuse.vnodefs';

export class VnodefsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'VnodefsError';
  }
}

// libuv opens every descriptor with O_CLOEXEC: children never inherit one by accident.
export function openFuseDevice(nonblocking = false): number {
  return openSync('/dev/fuse', F.O_RDWR | (nonblocking ? F.O_NONBLOCK : 0));
}

/** A new descriptor attached to the connection of `masterFd`, with its own processing queue. */
export function cloneFuseDevice(masterFd: number, nonblocking: boolean): number {
  const fd = openFuseDevice(nonblocking);
  try {
    ioctlU32Ptr(fd, FUSE_DEV_IOC_CLONE, masterFd);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

function run(cmd: string, args: string[], fd?: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const stdio: ('ignore' | 'pipe' | number)[] = ['ignore', 'ignore', 'pipe'];
    if (fd !== undefined) stdio.push(fd);
    const p = spawn(cmd, args, { stdio });
    let err = '';
    p.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) =>
      code === 0 ? resolve() : reject(new VnodefsError('VNODEFS_MOUNT', `${cmd} ${args.join(' ')}: exit ${code}: ${err.trim()}`)),
    );
  });
}

/**
 * Mounts the FUSE connection of `fd` at `mountpoint` (allow_other: every vNode user reads
 * it), private. Under a shared parent (systemd makes / shared) it would be shared, and so
 * would every bind and open_tree clone of its files: the containers' /proc and /sys files,
 * and the copies vnode-mount gives a runtime inside a vNode. A mount a workload then made
 * on one of them (runc masking /proc/kcore with /dev/null in a Docker-in-Docker container)
 * would propagate to every peer: into the host's mount table, into every container of
 * every vNode, and stay there after the pod is gone.
 */
export function mountFuse(fd: number, mountpoint: string): Promise<void> {
  const opts = 'fd=3,rootmode=40000,user_id=0,group_id=0,allow_other,private';
  return run('mount', ['-i', '-t', FS_TYPE, '-o', opts, 'vnodefs', mountpoint], fd);
}

/** Makes an existing mount private (a vnodefs mount that a holder kept from an older manager may be shared). */
export function makePrivate(mountpoint: string): Promise<void> {
  return run('mount', ['--make-private', mountpoint]);
}

/** Lazily unmounts (busy readers keep working until they close). */
export function unmount(mountpoint: string): Promise<void> {
  return run('umount', ['-l', mountpoint]);
}

/** Whether `mountpoint` is a vnodefs mount in this mount namespace. */
export function isVnodefsMount(mountpoint: string): boolean {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  for (const line of text.split('\n')) {
    const [pre, post] = line.split(' - ');
    if (pre?.split(' ')[4] === mountpoint && post?.startsWith(`${FS_TYPE} `)) return true;
  }
  return false;
}

/**
 * The FUSE connection number of a mount (the minor of its device number), from
 * mountinfo. Never stat() the mount from the serving thread: the kernel would ask
 * this very thread for the attributes, and wait forever.
 */
export function connectionId(mountpoint: string): number | undefined {
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    const post = line.split(' - ')[1];
    if (f[4] === mountpoint && post?.startsWith(`${FS_TYPE} `)) return Number(f[2]!.split(':')[1]);
  }
  return undefined;
}

const FUSECTL = '/sys/fs/fuse/connections';

/** Ends a FUSE connection through fusectl (mounted here if it is not): every request fails with ENOTCONN. */
export async function abortConnection(id: number): Promise<void> {
  if (!existsSync(`${FUSECTL}/${id}`)) await run('mount', ['-t', 'fusectl', 'fusectl', FUSECTL]).catch(() => undefined);
  try {
    writeFileSync(`${FUSECTL}/${id}/abort`, '1');
  } catch {
    /* already gone */
  }
}
