// Running iproute2 and a shell inside a network namespace given by path (nsenter
// --net=PATH), and telling namespace files apart. One exec per step: spawning from
// Node costs ~10–15 ms here, `ip` itself ~2 ms, so the steps batch their commands.
import { execFile } from 'node:child_process';
import { statSync, statfsSync } from 'node:fs';
import { NetError, type NetErrorCode } from './errors.js';

const NSFS_MAGIC = 0x6e736673;
const EXEC_TIMEOUT_MS = 15_000;

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

/** `sh -c script sh ...args` inside the network namespace at `netns`; resolves to stdout. */
export function shInNetns(netns: string, script: string, args: string[], code: NetErrorCode, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      'nsenter',
      [`--net=${netns}`, '--', 'sh', '-c', script, 'sh', ...args],
      { encoding: 'utf8', timeout: EXEC_TIMEOUT_MS, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        if (err) reject(new NetError(code, `in network namespace ${netns}: ${stderr.trim() || err.message}`));
        else resolve(stdout);
      },
    );
    child.stdin?.end(input ?? '');
  });
}
