// The vnode image (the DaemonSet's): an OCI archive built with the project's own image code
// (src/oci), importable with `ctr -n k8s.io images import`. One layer:
//   /opt/vnode/...   this build laid out as install lays out a prefix (copyBuild), with
//                    the Node.js that runs it (the build machine's, with the shared
//                    libraries it links: libc, libstdc++, libgcc_s, libm and its loader)
//   /bin/busybox     Debian's busybox-static and its applets: sh for the container's
//                    command, nsenter (systemctl in the node's mount namespace), wget (probes)
// `vnode install --host-root /host` in it copies /opt/vnode, Node.js included, to the node.
import { execFileSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { buildOciArchive, busyboxLayer, DEFAULT_BUSYBOX, requireStaticBusybox, type ImageArchiveInfo, type TarEntry } from '../oci/index.js';
import { buildRoot } from './files.js';
import { copyBuild, DEFAULT_PREFIX } from './install.js';

export const VNODE_IMAGE_REF = 'localhost/vnode/vnode:0.1.0';

/** The shared libraries (and loader) an executable needs, as ldd names them. */
export function sharedLibraries(exe: string): string[] {
  let out = '';
  try { out = execFileSync('ldd', [exe], { encoding: 'utf8' }); } catch { return []; } // static: "not a dynamic executable"
  const libs: string[] = [];
  for (const line of out.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]!);
  }
  return libs;
}

function treeEntries(dir: string, at: string): TarEntry[] {
  const out: TarEntry[] = [{ type: 'dir', path: at, mode: statSync(dir).mode & 0o7777 }];
  for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const p = join(dir, e.name);
    const path = join(at, e.name);
    if (e.isDirectory()) out.push(...treeEntries(p, path));
    else if (e.isSymbolicLink()) out.push({ type: 'symlink', path, target: readlinkSync(p) });
    else out.push({ type: 'file', path, data: readFileSync(p), mode: lstatSync(p).mode & 0o7777 });
  }
  return out;
}

/** Parent directories of `path` (relative, without a leading /) that are not in `have` yet. */
function parents(path: string, have: Set<string>): TarEntry[] {
  const out: TarEntry[] = [];
  const parts = path.split('/');
  for (let i = 1; i < parts.length; i++) {
    const d = parts.slice(0, i).join('/');
    if (!have.has(d)) { have.add(d); out.push({ type: 'dir', path: d, mode: 0o755 }); }
  }
  return out;
}

export interface VnodeImage extends ImageArchiveInfo {
  archive: Buffer;
  files: number;
}

/** Builds the image from the running build and Node.js. */
export function buildVnodeImage(o: { ref?: string; busybox?: string } = {}): VnodeImage {
  const busybox = o.busybox ?? DEFAULT_BUSYBOX;
  requireStaticBusybox(busybox);
  const stage = mkdtempSync(join(tmpdir(), 'vnode-image-'));
  try {
    copyBuild(buildRoot(), stage, DEFAULT_PREFIX);
    const layer = busyboxLayer(busybox);
    const have = new Set(layer.filter((e) => e.type === 'dir').map((e) => e.path.replace(/\/$/, '')));
    for (const lib of sharedLibraries(process.execPath)) {
      const path = lib.replace(/^\//, '');
      layer.push(...parents(path, have));
      layer.push({ type: 'file', path, data: readFileSync(realpathSync(lib)), mode: 0o755 });
    }
    const prefixRel = relative('/', DEFAULT_PREFIX);
    layer.push(...parents(join(prefixRel, 'x'), have));
    layer.push(...treeEntries(stage, prefixRel).filter((e) => !(e.type === 'dir' && have.has(e.path))));
    const ref = o.ref ?? VNODE_IMAGE_REF;
    const built = buildOciArchive({
      ref,
      layer,
      env: [`PATH=${DEFAULT_PREFIX}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`],
      cmd: [`${DEFAULT_PREFIX}/bin/vnode`, '--help'],
      labels: { 'org.opencontainers.image.title': 'vnode', 'org.opencontainers.image.description': 'vnode install + vnode-manager for the vnode DaemonSet' },
    }, 'vnode image build-vnode');
    return { ...built, files: layer.filter((e) => e.type === 'file').length };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
