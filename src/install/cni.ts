// The vnode runtime's CNI: containerd reads a per-runtime cni_conf_dir, so the vnode
// runtime gets its own directory with one conflist: the node's primary network (the file
// containerd itself would load: the first .conf/.conflist/.json of the CRI conf_dir, in
// name order) with vnode-cni appended (vnodeConflist). Same network name, so the same IPAM
// store and the same pod network. vnode-cni itself goes into the node's CNI bin dir (the
// bin dirs are global in containerd's config), as a symlink into the prefix.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { vnodeConflist } from './containerd-config.js';
import { InstallError } from './errors.js';
import { writeAtomic } from './files.js';
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

/** The vnode conflist's bytes, as install and the manager's follower write them. */
export function vnodeConflistText(primary: Record<string, unknown>): string {
  return JSON.stringify(vnodeNetwork(asConflist(primary)), null, 2) + '\n';
}

// ---- following the primary network ---------------------------------------------------------
// Network agents rewrite their conflist after install (Calico and Cilium at every start, an
// upgrade, another network that sorts first): the manager keeps the vnode copy in step
// (src/manager/cni-follow.ts). containerd watches its conf dirs itself and reloads.

/** What the vnode conf dir needs for the primary conf dir as it is now. */
export type VnodeCniPlan =
  /** The copy matches the primary network. */
  | { kind: 'current'; primary: string; name: string }
  /** Write `name` (atomically), then remove `remove` (a renamed primary's old copy). */
  | { kind: 'write'; primary: string; name: string; text: string; remove: string[]; why: 'missing' | 'changed' | 'renamed' }
  /** No usable primary network (gone, or it does not load): the last good copy stays. */
  | { kind: 'keep'; warning: string; kept: string[] };

/**
 * Pure: given the files of the primary conf dir and of the vnode conf dir (name → text;
 * undefined for an entry that is not a readable file), what to write. The primary network
 * is the first .conf/.conflist/.json in name order (the one containerd's CRI loads); when
 * it does not parse, containerd fails to load it too: most likely an agent writing it in
 * place, so the copy stays as it was rather than follow a half-written file.
 */
export function vnodeCniPlan(primaryDir: string, primaryFiles: ReadonlyMap<string, string | undefined>, vnodeFiles: ReadonlyMap<string, string | undefined>): VnodeCniPlan {
  const kept = [...vnodeFiles.keys()].filter((n) => CONF_EXTENSIONS.has(extname(n))).sort();
  const keepAs = (why: string): VnodeCniPlan => ({ kind: 'keep', kept, warning: `${why}: ${kept.length ? `keeping ${kept.join(', ')}` : 'the vnode conf dir has no copy yet'}` });
  const first = [...primaryFiles.keys()].filter((n) => CONF_EXTENSIONS.has(extname(n)) && primaryFiles.get(n) !== undefined).sort()[0];
  if (!first) return keepAs(`no CNI network in ${primaryDir}`);
  let parsed: unknown;
  try { parsed = JSON.parse(primaryFiles.get(first)!); } catch (e) { return keepAs(`${join(primaryDir, first)} does not parse (${(e as Error).message})`); }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return keepAs(`${join(primaryDir, first)} is not a CNI network config`);
  const c = asConflist(parsed as Record<string, unknown>);
  const plugins = c['plugins'];
  if (typeof c['name'] !== 'string' || !Array.isArray(plugins) || plugins.length === 0 || plugins.some((p) => !p || typeof (p as Record<string, unknown>)['type'] !== 'string')) {
    return keepAs(`${join(primaryDir, first)} is not a CNI network config (no name, or a plugin without a type)`);
  }
  const name = vnodeConflistName(first);
  const text = vnodeConflistText(c);
  const remove = [...vnodeFiles.keys()].filter((n) => n !== name).sort();
  const have = vnodeFiles.get(name);
  if (have === text && remove.length === 0) return { kind: 'current', primary: first, name };
  return { kind: 'write', primary: first, name, text, remove, why: have === text ? 'renamed' : have === undefined ? (remove.some((n) => CONF_EXTENSIONS.has(extname(n))) ? 'renamed' : 'missing') : 'changed' };
}

/** A conf dir's entries: name → text of each regular file (undefined for anything else); empty when the dir is missing. */
export function readConfDir(dir: string): Map<string, string | undefined> {
  const out = new Map<string, string | undefined>();
  let entries;
  try { entries = readdirSync(dir, { withFileTypes: true }); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw err;
  }
  for (const e of entries) {
    let text: string | undefined;
    // a symlink counts as the file it points to (a conflist managed elsewhere)
    if (e.isFile() || e.isSymbolicLink()) { try { text = readFileSync(join(dir, e.name), 'utf8'); } catch { /* dangling or unreadable */ } }
    out.set(e.name, text);
  }
  return out;
}

/**
 * One catch-up of the vnode conf dir with the primary one (host paths, on the node): the
 * plan, carried out. The new copy is written atomically before an old name goes, so the
 * vnode dir is never without a network.
 */
export function syncVnodeCni(primaryDir: string, vnodeDir: string): VnodeCniPlan {
  const plan = vnodeCniPlan(primaryDir, readConfDir(primaryDir), readConfDir(vnodeDir));
  if (plan.kind !== 'write') return plan;
  writeAtomic(join(vnodeDir, plan.name), plan.text, 0o644);
  for (const n of plan.remove) rmSync(join(vnodeDir, n), { force: true, recursive: true });
  return plan;
}
