// The images and host-side checks of the privileged-workload tests (Docker-in-Docker,
// systemd, a nested containerd): built by the product's own `vnode image build-*` code,
// cached under .cache/images.
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { DEBIAN_IMAGES, debianImage, importImage, type DebianImageName } from '../../src/oci/index.js';
import type { CtrRunner } from '../../src/oci/index.js';
import { availableContainerdVersions } from './containerd.js';
import type { CriEnv } from './cri.js';
import { imagesCacheDir } from './paths.js';

export { cgroupDirsOf, hostCgroupsMatching } from './host-cgroups.js';

/**
 * Where each workload test runs: containerd 2.x with a vNode per namespace, 1.7 with a vNode
 * per pod (both modes and both versions without running every scenario four times), as far
 * as the machine has them and VNODE_TEST_CONTAINERD_VERSIONS allows.
 */
export function workloadLanes(): { version: '2' | '1.7'; perPod: boolean }[] {
  const available = availableContainerdVersions();
  const asked = process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',');
  return [
    { version: '2' as const, perPod: false },
    { version: '1.7' as const, perPod: true },
  ].filter((l) => available.includes(l.version) && (asked?.includes(l.version) ?? true));
}

/** `sh -c script` in a container through CRI ExecSync: trimmed stdout and stderr, and the exit code. */
export async function execSh(env: CriEnv, cid: string, script: string, timeoutSec = 120): Promise<{ out: string; err: string; code: number }> {
  const r = await env.cri.execSync(cid, ['sh', '-c', script], timeoutSec);
  return { out: r.stdout.toString().trim(), err: r.stderr.toString().trim(), code: r.exit_code ?? 0 };
}

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

/** Does this process's bounding set hold CAP_SYS_RESOURCE (bit 24)? Some CI hosts' root lacks it. */
export function hostHasSysResource(): boolean {
  const m = /^CapBnd:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? (BigInt(`0x${m[1]}`) & (1n << 24n)) !== 0n : false;
}

/**
 * An emptyDir where kubelet keeps one (/var/lib/kubelet/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>,
 * mode 0777), so the manager treats it as a pod file (an ID-mapped clone), not a hostPath.
 */
export function kubeletEmptyDir(name: string): { dir: string; remove(): void } {
  const pod = join('/var/lib/kubelet/pods', randomUUID());
  const dir = join(pod, 'volumes', 'kubernetes.io~empty-dir', name);
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  return { dir, remove: () => rmSync(pod, { recursive: true, force: true }) };
}
