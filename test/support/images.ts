// The test images: busybox and pause built locally (no registry) by the product's own
// image builder (src/oci/image-*.ts), cached under .cache/images, imported into
// containerd's k8s.io namespace.
import * as local from '../../src/oci/image-local.js';
import type { ImageArchive, CtrRunner } from '../../src/oci/image-local.js';
import { PackageLayer } from '../../src/oci/image-packages.js';
import type { TarEntry } from '../../src/oci/image-tar.js';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { cacheDir, imagesCacheDir, repoRoot } from './paths.js';

export { buildOciArchive, type ImageSpec } from '../../src/oci/image-archive.js';
export { importImage, type ImageArchive, type CtrRunner } from '../../src/oci/image-local.js';

export const BUSYBOX_IMAGE = 'localhost/vnode-test/busybox:latest';
export const PAUSE_IMAGE = 'localhost/vnode-test/pause:3.9';
export const NETTOOLS_IMAGE = 'localhost/vnode-test/nettools:latest';

/** Debian packages of the nettools image (scripts/setup-host.sh installs them): socat for UDP, iperf3 for bench/pod-network.ts. */
export const NETTOOLS_PACKAGES = ['iproute2', 'iptables', 'dash', 'socat', 'iperf3'];

/**
 * busybox from Debian's busybox-static (/bin/busybox, every applet as a symlink,
 * /etc/passwd and /etc/group), plus /bin/syscall-probe (test/support/native), which
 * tries syscalls busybox has no applet for and prints the errno each gives.
 */
export function busyboxImage(ref = BUSYBOX_IMAGE, busybox = '/bin/busybox'): ImageArchive {
  local.requireStaticBusybox(busybox);
  const probe = syscallProbe();
  return local.cachedArchive(imagesCacheDir, 'busybox-probe', `${ref}\0${local.fileKey(busybox)}\0${local.fileKey(probe)}`, () => ({
    ref,
    layer: [...local.busyboxLayer(busybox), { type: 'file', path: 'bin/syscall-probe', data: readFileSync(probe), mode: 0o755 }],
    cmd: ['sh'],
  }));
}

/**
 * Builds test/support/native/syscall-probe.c (static) into .cache when its source
 * changed; `i386` builds it for the 32-bit ABI (gcc-multilib), whose syscall numbers the
 * seccomp filter has a table of its own for.
 */
export function syscallProbe(abi: 'native' | 'i386' = 'native'): string {
  const src = join(repoRoot, 'test/support/native/syscall-probe.c');
  const out = join(cacheDir, 'native', `syscall-probe${abi === 'i386' ? '-i386' : ''}-${createHash('sha256').update(readFileSync(src)).digest('hex').slice(0, 12)}`);
  if (!existsSync(out)) {
    mkdirSync(dirname(out), { recursive: true });
    const flags = abi === 'i386' ? ['-m32'] : [];
    execFileSync('cc', [...flags, '-O2', '-Wall', '-Wextra', '-Werror', '-static', '-o', `${out}.tmp`, src], { stdio: 'inherit' });
    renameSync(`${out}.tmp`, out);
  }
  return out;
}

/**
 * The layer of the nettools image: busybox's applets plus iproute2 and iptables from the
 * host's Debian packages with the libraries they load, merged-/usr layout. `iptables`
 * and friends name the nft backend (what Debian's alternatives choose); the
 * -legacy ones are there too. /bin/sh is dash: busybox's shell runs its own applets
 * (ip, …) before anything in PATH.
 */
export function netToolsLayer(busybox = '/bin/busybox'): TarEntry[] {
  local.requireStaticBusybox(busybox);
  const pkgs = new PackageLayer().addPackages(NETTOOLS_PACKAGES).link('usr/bin/sh', 'dash');
  for (const fam of ['iptables', 'ip6tables']) {
    for (const suffix of ['', '-save', '-restore']) pkgs.link(`usr/sbin/${fam}${suffix}`, `${fam}-nft${suffix}`);
  }
  const usr = (p: string) => (p.startsWith('bin/') || p.startsWith('sbin/') ? `usr/${p}` : p);
  const mergedTops = new Set(['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin']);
  const box = local
    .busyboxLayer(busybox)
    .filter((e) => !(e.type === 'dir' && mergedTops.has(e.path)))
    .map((e) => ({ ...e, path: usr(e.path) }))
    .filter((e) => !(e.type === 'symlink' && pkgs.has(`/${e.path}`)));
  const byPath = new Map<string, TarEntry>();
  // /run: iptables-legacy takes /run/xtables.lock
  for (const e of [...pkgs.entries(), ...box, { type: 'dir' as const, path: 'run', mode: 0o755 }]) if (!byPath.has(e.path) || e.type !== 'dir') byPath.set(e.path, e);
  // directories first, so that each file's parent exists when it is unpacked
  return [...byPath.values()].sort((a, b) => Number(b.type === 'dir') - Number(a.type === 'dir') || a.path.localeCompare(b.path));
}

/** An image with busybox, iproute2, iptables, socat, iperf3 and dash as sh (tests and benchmarks of pod networking). */
export function netToolsImage(ref = NETTOOLS_IMAGE, busybox = '/bin/busybox'): ImageArchive {
  const key = [ref, local.fileKey(busybox), ...NETTOOLS_PACKAGES.map((p) => execFileSync('dpkg-query', ['-W', '-f', '${Package}=${Version}', p], { encoding: 'utf8' }))].join('\0');
  return local.cachedArchive(imagesCacheDir, 'nettools', key, () => ({ ref, layer: netToolsLayer(busybox), cmd: ['sh'] }));
}

/** pause from Debian's static catatonit: `/catatonit -P` behaves as pause. */
export function pauseImage(ref = PAUSE_IMAGE, catatonit = '/usr/bin/catatonit'): ImageArchive {
  return local.pauseImage(imagesCacheDir, ref, catatonit);
}

/** Builds (or reuses) the nettools archive and imports it (pods then use NETTOOLS_IMAGE). */
export async function importNetToolsImage(ctr: CtrRunner): Promise<ImageArchive> {
  const image = netToolsImage();
  await local.importImage(ctr, image);
  return image;
}

/** Builds (or reuses) the busybox and pause archives and imports both. */
export async function importTestImages(ctr: CtrRunner): Promise<{ busybox: ImageArchive; pause: ImageArchive }> {
  const busybox = busyboxImage();
  const pause = pauseImage();
  await local.importImage(ctr, pause);
  await local.importImage(ctr, busybox);
  return { busybox, pause };
}

export const WEBLOG_IMAGE = 'localhost/vnode-test/weblog:latest';

/**
 * An nginx-like server: busybox httpd (Debian's busybox-static) started by /usr/sbin/weblog,
 * which opens its logs by path at start, as nginx does, and exits (70/71) if it cannot.
 * The logs are what the official nginx image makes them: /var/log/weblog/access.log →
 * /dev/stdout and error.log → /dev/stderr. It requests its own page once a second and
 * logs each request. User www-data (33) exists for runAsUser tests.
 */
export function weblogImage(ref = WEBLOG_IMAGE, busybox = '/bin/busybox'): ImageArchive {
  local.requireStaticBusybox(busybox);
  const script = [
    '#!/bin/sh',
    'exec 3>>/var/log/weblog/access.log || exit 70',
    'exec 4>>/var/log/weblog/error.log || exit 71',
    'echo "weblog start uid=$(id -u)" >&4',
    'port=${PORT:-8080}',
    'httpd -f -p 127.0.0.1:$port -h /srv/www 2>&4 &',
    '# up when it answers (nginx logs nothing while it starts either)',
    'i=0; until wget -q -O /dev/null http://127.0.0.1:$port/ 2>/dev/null || [ $i -ge 50 ]; do i=$((i+1)); sleep 0.1; done',
    'while :; do',
    '  if body=$(wget -q -O - http://127.0.0.1:$port/index.html 2>/dev/null); then echo "GET /index.html 200 $body" >&3; else echo "GET /index.html failed" >&4; fi',
    '  sleep 1',
    'done',
    '',
  ].join('\n');
  const base = local.busyboxLayer(busybox).map((e) =>
    e.type === 'file' && e.path === 'etc/passwd' ? { ...e, data: `${String(e.data)}www-data:x:33:33:www-data:/var/www:/bin/false\n` }
      : e.type === 'file' && e.path === 'etc/group' ? { ...e, data: `${String(e.data)}www-data:x:33:\n` } : e);
  const layer: TarEntry[] = [
    ...base,
    { type: 'dir', path: 'var/log', mode: 0o755 },
    { type: 'dir', path: 'var/log/weblog', mode: 0o755 },
    { type: 'symlink', path: 'var/log/weblog/access.log', target: '/dev/stdout' },
    { type: 'symlink', path: 'var/log/weblog/error.log', target: '/dev/stderr' },
    { type: 'dir', path: 'srv', mode: 0o755 },
    { type: 'dir', path: 'srv/www', mode: 0o755 },
    { type: 'file', path: 'srv/www/index.html', data: 'weblog-page\n', mode: 0o644 },
    { type: 'file', path: 'usr/sbin/weblog', data: script, mode: 0o755 },
  ];
  return local.cachedArchive(imagesCacheDir, 'weblog', `${ref}\0${local.fileKey(busybox)}\0${script}`, () => ({ ref, layer, cmd: ['/usr/sbin/weblog'] }));
}
