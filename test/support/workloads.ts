// The images and host-side checks of the privileged-workload tests (Docker-in-Docker,
// systemd, a nested containerd): built by the product's own `vnode image build-*` code,
// cached under .cache/images.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseHierarchies } from '../../src/cgroup/index.js';
import { DEBIAN_IMAGES, debianImage, importImage, type DebianImageName } from '../../src/oci/index.js';
import type { CtrRunner } from '../../src/oci/index.js';
import { imagesCacheDir } from './paths.js';

/** Builds (or reuses) a Debian workload image and imports it; returns its reference. */
export async function importDebianImage(ctr: CtrRunner, name: DebianImageName): Promise<string> {
  const img = await debianImage(name, { cacheDir: imagesCacheDir, progress: (l) => console.error(`[image] ${l}`) });
  await importImage(ctr, img);
  return DEBIAN_IMAGES[name].ref;
}

/** What a privileged workload must never add to the host: mounts, links, iptables rules, cgroups. */
export interface HostSnapshot {
  mounts: string[];
  links: string[];
  iptables: string[];
}

const iptablesRules = (): string[] => {
  try {
    return execFileSync('iptables-save', { encoding: 'utf8' }).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.replace(/\[\d+:\d+\]/, ''));
  } catch { return []; }
};

export function hostSnapshot(): HostSnapshot {
  return {
    mounts: readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter(Boolean).map((l) => l.split(' ').slice(3, 5).join(' ')),
    links: execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' }).split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().split('@')[0]!),
    iptables: iptablesRules(),
  };
}

/** Entries of `now` that `before` did not have. */
export function gained(before: HostSnapshot, now: HostSnapshot): HostSnapshot {
  const diff = (a: string[], b: string[]) => { const s = new Set(a); return b.filter((x) => !s.has(x)); };
  return { mounts: diff(before.mounts, now.mounts), links: diff(before.links, now.links), iptables: diff(before.iptables, now.iptables) };
}

/** Every cgroup directory on the host (all mounted hierarchies) whose name matches. */
export function hostCgroupsMatching(re: RegExp): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    let ents: import('node:fs').Dirent[];
    try { ents = readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      if (!e.isDirectory()) continue;
      const p = join(d, e.name);
      if (re.test(e.name)) out.push(p);
      if (depth < 14) walk(p, depth + 1);
    }
  };
  for (const h of parseHierarchies(readFileSync('/proc/self/mountinfo', 'utf8'))) if (h.root === '/') walk(h.mountPoint, 0);
  return out;
}

/** The container's cgroup directory in each mounted hierarchy, seen from the host. */
export function cgroupDirsOf(pid: number): string[] {
  const hs = parseHierarchies(readFileSync('/proc/self/mountinfo', 'utf8')).filter((h) => h.root === '/');
  const out: string[] = [];
  for (const line of readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const names = m[2] ? m[2].split(',') : [];
    const h = hs.find((x) => (names.length === 0 ? x.version === 2 : x.version === 1 && x.controllers.length === names.length && names.every((n) => x.controllers.includes(n))));
    if (h) out.push(join(h.mountPoint, m[3]!));
  }
  return out;
}

/** Does this process's bounding set hold CAP_SYS_RESOURCE (bit 24)? Some CI hosts' root lacks it. */
export function hostHasSysResource(): boolean {
  const m = /^CapBnd:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? (BigInt(`0x${m[1]}`) & (1n << 24n)) !== 0n : false;
}
