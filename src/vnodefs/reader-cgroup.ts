// Finds the cgroup of the process reading a file, so a container inside a vNode
// sees its own (tighter) limits. Only cgroups below the vNode's own are used: a
// reader elsewhere gets the vNode's view.
import { join } from 'node:path';
import { readText, type CgroupLocation } from './cgroup.js';

type Ctrl = 'memory' | 'cpu' | 'cpuacct' | 'cpuset' | 'pids' | 'blkio';
const CTRLS: Ctrl[] = ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio'];

interface Mounts {
  v1: Map<string, string>;
  v2: string | undefined;
}
let mounts: Mounts | undefined;

/** cgroup mount points of this (the server's) mount namespace, read once. */
function cgroupMounts(): Mounts {
  if (mounts) return mounts;
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of (readText('/proc/self/mountinfo') ?? '').split('\n')) {
    const [pre, post] = line.split(' - ');
    if (!pre || !post) continue;
    const mp = pre.split(' ')[4];
    const [fstype, , opts] = post.split(' ');
    if (!mp) continue;
    if (fstype === 'cgroup2') v2 ??= mp;
    else if (fstype === 'cgroup' && opts) for (const o of opts.split(',')) if ((CTRLS as string[]).includes(o)) v1.set(o, mp);
  }
  mounts = { v1, v2 };
  return mounts;
}

function below(candidate: string, base: string): boolean {
  return candidate === base || candidate.startsWith(base.endsWith('/') ? base : `${base}/`);
}

/** The reader's /proc/<pid>/cgroup (cached like other cgroup reads), or undefined. */
export function readerCgroupText(pid: number, procRoot = '/proc'): string | undefined {
  return pid > 0 ? readText(join(procRoot, String(pid), 'cgroup')) : undefined;
}

/**
 * The cgroup location of a reader whose /proc/<pid>/cgroup reads `text`: each
 * controller path is the reader's if it lies below the vNode's, else the vNode's.
 * Returns `base` itself when nothing is narrower.
 */
export function locationFromText(base: CgroupLocation, text: string): CgroupLocation {
  const m = cgroupMounts();
  if (base.version === 2) {
    const rel = /^0::(.*)$/m.exec(text)?.[1];
    if (rel === undefined || !m.v2) return base;
    const cand = join(m.v2, rel);
    return cand !== base.path && below(cand, base.path) ? { version: 2, path: cand } : base;
  }
  const paths = { ...base.paths };
  let changed = false;
  for (const line of text.split('\n')) {
    const [, ctrls, rel] = line.split(':');
    if (!ctrls || rel === undefined) continue;
    for (const c of ctrls.split(',')) {
      if (!(CTRLS as string[]).includes(c)) continue;
      const ctrl = c as Ctrl;
      const mp = m.v1.get(ctrl);
      const mine = base.paths[ctrl];
      if (!mp || !mine) continue;
      const cand = join(mp, rel);
      if (cand !== mine && below(cand, mine)) {
        paths[ctrl] = cand;
        changed = true;
      }
    }
  }
  return changed ? { version: 1, paths } : base;
}
