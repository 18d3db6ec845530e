// Telling network namespace files apart: /proc/<pid>/ns/net and bind mounts of one.
import { statSync, statfsSync } from 'node:fs';

const NSFS_MAGIC = 0x6e736673;

/** Whether `path` is a network namespace file (nsfs): /proc/<pid>/ns/net or a bind mount of one. */
export function isNetnsFile(path: string): boolean {
  try {
    return statfsSync(path).type === NSFS_MAGIC;
  } catch {
    return false;
  }
}

/** The namespace's inode (its identity): equal for two paths of one namespace. */
export function netnsInode(path: string): number | undefined {
  if (!isNetnsFile(path)) return undefined;
  try {
    return statSync(path).ino;
  } catch {
    return undefined;
  }
}
