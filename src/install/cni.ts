// The vnode runtime's CNI: containerd reads a per-runtime cni_conf_dir, so the vnode
// runtime gets its own directory with one conflist: the node's primary network (the file
// containerd itself would load: the first .conf/.conflist/.json of the CRI conf_dir, in
// name order) with vnode-cni appended (vnodeConflist). Same network name, so the same IPAM
// store and the same pod network. vnode-cni itself goes into the node's CNI bin dir (the
// bin dirs are global in containerd's config), as a symlink into the prefix.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { vnodeConflist } from './containerd-config.js';
import { InstallError } from './errors.js';
import type { HostRoot } from './node.js';

const CONF_EXTENSIONS = new Set(['.conf', '.conflist', '.json']);

export interface PrimaryNetwork {
  /** Host path of the file containerd loads. */
  file: string;
  conflist: Record<string, unknown>;
}

/** The network containerd's CRI uses for its default runtime, or undefined when none is configured yet. */
export function primaryNetwork(confDir: string, h: HostRoot): PrimaryNetwork | undefined {
  const dir = h.path(confDir);
  if (!existsSync(dir)) return undefined;
  const names = readdirSync(dir).filter((n) => CONF_EXTENSIONS.has(extname(n))).sort();
  for (const n of names) {
    let parsed: Record<string, unknown>;
    try { parsed = JSON.parse(readFileSync(join(dir, n), 'utf8')) as Record<string, unknown>; } catch { continue; } // libcni skips what it cannot load too
    return { file: join(confDir, n), conflist: asConflist(parsed) };
  }
  return undefined;
}

/** A single-plugin .conf as the one-entry conflist libcni makes of it. */
export function asConflist(c: Record<string, unknown>): Record<string, unknown> {
  if (Array.isArray(c['plugins'])) return c;
  const { cniVersion, name, ...plugin } = c;
  return { cniVersion, name, plugins: [plugin] };
}

/** The vnode runtime's conflist: vnode-cni appended once (kept when the network already has it). */
export function vnodeNetwork(primary: Record<string, unknown>): Record<string, unknown> {
  const plugins = (primary['plugins'] as Record<string, unknown>[]) ?? [];
  if (plugins.some((p) => p['type'] === 'vnode-cni')) return primary;
  return vnodeConflist(primary);
}

/** The file name in the vnode conf dir: the primary's name as a .conflist. */
export function vnodeConflistName(primaryFile: string): string {
  return `${basename(primaryFile, extname(primaryFile))}.conflist`;
}

export function requirePrimaryNetwork(confDir: string, h: HostRoot): PrimaryNetwork {
  const p = primaryNetwork(confDir, h);
  if (!p) {
    throw new InstallError('NO_CNI_NETWORK', `no CNI network in ${confDir} (containerd's CRI conf_dir): install the cluster's network plugin first; vnode chains vnode-cni after it`);
  }
  return p;
}
