// The OCI runtime features vnode declares in `-info` (containerd.types.RuntimeInfo's
// `features`: the runtime-spec features document as JSON, type URL
// types.containerd.io/opencontainers/runtime-spec/1/features/Features). containerd's
// CRI reads two things from it for a handler's RuntimeHandlerFeatures (2.1:
// internal/cri/server/service.go introspectRuntimeHandler):
//   recursive_read_only_mounts  <- "rro" in mountOptions (and a kernel with mount_setattr)
//   user_namespaces             <- "user" in linux.namespaces and linux.mountExtensions.idmap.enabled
// The base is what the OCI runtime vnode drives reports (`runc features`); on top come
// what vnode itself provides whatever that runtime's version: "rro" (the planner turns
// it into "ro" plus a recursive read-only hook), the user namespace (every vNode pod is
// in one) and ID-mapped mounts (vnode ID-maps pod files into the vNode itself).
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import type { Any } from '../proto/index.js';
import { runtimeOptionsBinaryName } from '../taskapi/index.js';

export const FEATURES_TYPE_URL = 'types.containerd.io/opencontainers/runtime-spec/1/features/Features';

/** The parts of the runtime-spec features document vnode reads or writes. */
export interface OciFeatures {
  ociVersionMin?: string;
  ociVersionMax?: string;
  hooks?: string[];
  mountOptions?: string[];
  linux?: {
    namespaces?: string[];
    mountExtensions?: { idmap?: { enabled?: boolean } };
    [k: string]: unknown;
  };
  annotations?: Record<string, string>;
  [k: string]: unknown;
}

function onPath(name: string): string | undefined {
  if (name.includes('/')) return name;
  for (const dir of (process.env.PATH ?? '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin').split(delimiter)) {
    const p = join(dir, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

/** The OCI runtime binary the options (BinaryName), VNODE_RUNTIME or PATH name, as the manager picks it. */
export function runtimeBinaryOf(options: Any | undefined): string | undefined {
  let wanted = process.env.VNODE_RUNTIME || undefined;
  try {
    wanted = runtimeOptionsBinaryName(options) || wanted;
  } catch {
    /* unreadable options: the manager's create says why */
  }
  return wanted ? onPath(wanted) : (onPath('runc') ?? onPath('crun'));
}

/** What `<runtime> features` prints, or undefined (no runtime, or one without the command). */
export function runtimeFeatures(binary: string | undefined): OciFeatures | undefined {
  if (!binary) return undefined;
  try {
    return JSON.parse(execFileSync(binary, ['features'], { encoding: 'utf8', timeout: 5_000, stdio: ['ignore', 'pipe', 'ignore'] })) as OciFeatures;
  } catch {
    return undefined;
  }
}

/** The runtime's features with what vnode adds (pure). */
export function vnodeFeatures(base: OciFeatures | undefined): OciFeatures {
  const f: OciFeatures = structuredClone(base ?? { ociVersionMin: '1.0.0', ociVersionMax: '1.0.2' });
  f.mountOptions = [...new Set([...(f.mountOptions ?? []), 'ro', 'rw', 'bind', 'rbind', 'rro'])].sort();
  const linux = (f.linux ??= {});
  linux.namespaces = [...new Set([...(linux.namespaces ?? []), 'cgroup', 'ipc', 'mount', 'network', 'pid', 'user', 'uts'])].sort();
  linux.mountExtensions = { ...(linux.mountExtensions ?? {}), idmap: { ...(linux.mountExtensions?.idmap ?? {}), enabled: true } };
  return f;
}
