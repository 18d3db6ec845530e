// kubelet's atomic-writer layout (secret, projected, downwardAPI and configMap
// volumes): the volume directory holds a timestamped directory `..2026_12_02_20_00_00.1`
// with the files, a `..data` symlink to it, and one user-visible symlink per top-level
// key (`token -> ..data/token`). kubelet updates the volume by writing a new timestamped
// directory and renaming a `..data_tmp` symlink over `..data`. This module reads that
// layout and plans how to bring a mirror of it up to date in the same order kubelet
// writes it, so a reader of the mirror never sees half an update. Pure: no file system.

export const DATA_LINK = '..data';

export interface DirEntryInfo {
  name: string;
  kind: 'dir' | 'link' | 'file' | 'other';
  /** A symlink's target. */
  target?: string;
}

export interface AtomicWriterLayout {
  /** The timestamped directory `..data` points at, e.g. "..2026_12_02_20_00_00.123". */
  data: string;
  /** User-visible top-level symlinks: name → target ("..data/token"). */
  links: Map<string, string>;
}

export type SyncOp =
  /** Copy the source's directory `name` into the mirror (under a temporary name, then rename). */
  | { op: 'copy'; name: string }
  /** Point the mirror's symlink `name` at `target`, atomically (a temporary link renamed over it). */
  | { op: 'link'; name: string; target: string }
  /** Remove the mirror's entry `name` (an old timestamped directory, a key kubelet dropped). */
  | { op: 'remove'; name: string };

/** A timestamped directory name kubelet writes: `..` then no slash (never `..data` itself). */
function isDataDirName(name: string): boolean {
  return name.startsWith('..') && name.length > 2 && !name.includes('/') && name !== DATA_LINK && !name.startsWith(`${DATA_LINK}_tmp`);
}

/**
 * The atomic-writer layout of a directory's entries, or undefined when the directory is
 * not one (no `..data` symlink to a timestamped directory beside it): an emptyDir, /dev/shm.
 */
export function parseAtomicWriter(entries: readonly DirEntryInfo[]): AtomicWriterLayout | undefined {
  const data = entries.find((e) => e.name === DATA_LINK);
  if (!data || data.kind !== 'link' || !data.target) return undefined;
  const target = data.target.replace(/^\.\//, '').replace(/\/+$/, '');
  if (!isDataDirName(target)) return undefined;
  if (!entries.some((e) => e.name === target && e.kind === 'dir')) return undefined;
  const links = new Map<string, string>();
  for (const e of entries) {
    if (e.kind === 'link' && e.name !== DATA_LINK && !e.name.startsWith('..') && e.target !== undefined) links.set(e.name, e.target);
  }
  return { data: target, links };
}

/**
 * The steps that make `mirror` (the mirror directory's entries) show `source`, in
 * kubelet's order: the new timestamped directory first, then the `..data` swap, then
 * the user-visible links, and only then the removal of what the source no longer has.
 * Empty when the mirror is up to date.
 */
export function planSync(source: AtomicWriterLayout, mirror: readonly DirEntryInfo[]): SyncOp[] {
  const have = new Map(mirror.map((e) => [e.name, e]));
  const ops: SyncOp[] = [];
  const dataDir = have.get(source.data);
  if (!dataDir || dataDir.kind !== 'dir') ops.push({ op: 'copy', name: source.data });
  const link = have.get(DATA_LINK);
  if (!link || link.kind !== 'link' || link.target !== source.data) ops.push({ op: 'link', name: DATA_LINK, target: source.data });
  for (const [name, target] of source.links) {
    const e = have.get(name);
    if (!e || e.kind !== 'link' || e.target !== target) ops.push({ op: 'link', name, target });
  }
  for (const e of mirror) {
    if (e.name === DATA_LINK || e.name === source.data || source.links.has(e.name)) continue;
    ops.push({ op: 'remove', name: e.name });
  }
  return ops;
}
