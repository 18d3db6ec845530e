// Images of whole Debian systems for the workloads vNodes exist for (docs/privileged-workloads.md):
// Docker-in-Docker (with containerd and the CNI plugins for a nested CRI too) and systemd as
// PID 1. Built with debootstrap from the mirror the host's apt already uses (no registry),
// cached under `cacheDir` by everything that goes into them.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DEFAULT_BUSYBOX, DEFAULT_CATATONIT, LocalImageError, busyboxImage, fileKey, pauseImage, type ImageArchive } from './image-local.js';
import { rootfsArchive, type RootfsImageSpec } from './image-rootfs.js';

export type DebianImageName = 'docker' | 'systemd';

interface Recipe {
  ref: string;
  packages: string[];
  image: Omit<RootfsImageSpec, 'ref'>;
  /** Busybox and pause archives inside the image, for the inner runtimes (docker load, ctr import). */
  withBusybox: boolean;
  /** Files written into the rootfs: absolute path → mode and contents. */
  files?: Record<string, { mode: number; text: string }>;
}

/** The docker image's entrypoint: it runs its arguments (dockerd by default) after the step below. */
export const DIND_ENTRYPOINT = '/usr/local/bin/vnode-dind-entrypoint';

/**
 * On cgroup v2, dockerd enables controllers for its containers in the root of its cgroup
 * namespace (the container's delegated cgroup), and v2 allows that only while no process
 * lives there ("no internal processes"). So, as moby's hack/dind does, the root's
 * processes move to a leaf, "init", and the root's controllers are enabled for children.
 * Nothing is done on cgroup v1 or with a read-only cgroupfs (an unprivileged container).
 */
function dindEntrypoint(): string {
  return `#!/bin/sh
# vnode-dind-entrypoint (written by vnode image build-docker): cgroup v2 nesting, then "$@"
cg=/sys/fs/cgroup
if [ -f $cg/cgroup.controllers ] && [ -w $cg/cgroup.subtree_control ]; then
  mkdir -p $cg/init
  tries=0
  # processes can appear while they are moved: retry a few times
  until { for p in $(cat $cg/cgroup.procs); do echo "$p" > $cg/init/cgroup.procs 2>/dev/null || :; done
          sed -e 's/ / +/g' -e 's/^/+/' $cg/cgroup.controllers > $cg/cgroup.subtree_control; } 2>/dev/null; do
    tries=$((tries + 1))
    if [ $tries -ge 10 ]; then echo "vnode-dind-entrypoint: cannot enable $(cat $cg/cgroup.controllers) in $cg/cgroup.subtree_control; inner containers get no limits" >&2; break; fi
    sleep 0.1
  done
fi
[ $# -gt 0 ] || set -- dockerd
exec "$@"
`;
}

/** Where the inner runtimes of the docker image find busybox: `docker load -i` it, `ctr images import` it. */
export const INNER_BUSYBOX_ARCHIVE = '/usr/share/vnode/images/busybox.tar';
export const INNER_BUSYBOX_REF = 'docker.io/library/busybox:latest';
/** The sandbox image a nested containerd 1.6 (bookworm's, in the docker image) asks for by default: catatonit -P. */
export const INNER_PAUSE_ARCHIVE = '/usr/share/vnode/images/pause.tar';
export const INNER_PAUSE_REF = 'registry.k8s.io/pause:3.6';

export const DEBIAN_IMAGES: Record<DebianImageName, Recipe> = {
  docker: {
    ref: 'docker.io/vnode/docker:bookworm',
    // docker.io brings containerd (with its CRI plugin) and runc: the nested-containerd case uses them too
    packages: ['docker.io', 'iptables', 'containernetworking-plugins', 'busybox', 'procps', 'iproute2'],
    image: { entrypoint: [DIND_ENTRYPOINT], cmd: ['dockerd'], labels: { 'dev.vnode.image': 'docker' } },
    withBusybox: true,
    files: { [DIND_ENTRYPOINT]: { mode: 0o755, text: dindEntrypoint() } },
  },
  systemd: {
    ref: 'docker.io/vnode/systemd:bookworm',
    packages: ['systemd', 'systemd-sysv', 'dbus', 'procps', 'iproute2'],
    image: { cmd: ['/sbin/init'], env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'container=vnode'], stopSignal: 'SIGRTMIN+3', labels: { 'dev.vnode.image': 'systemd' } },
    // configfs cannot be mounted in a user namespace (not FS_USERNS_MOUNT): on kernels that
    // have /sys/kernel/config the mount unit would fail and leave the system "degraded"
    files: { '/etc/systemd/system/sys-kernel-config.mount.d/vnode.conf': { mode: 0o644, text: '[Unit]\n# written by vnode image build-systemd: configfs is not mountable in a user namespace\nConditionVirtualization=!container\n' } },
    withBusybox: false,
  },
};

const SUITE = 'bookworm';
const RECIPE_VERSION = 2; // 2: pause image inside

/** The Debian mirror the host's apt sources use (deb822 or one-line format), else deb.debian.org. */
export function hostDebianMirror(root = '/'): string {
  const sources = join(root, 'etc/apt/sources.list.d/debian.sources');
  if (existsSync(sources)) {
    for (const line of readFileSync(sources, 'utf8').split('\n')) {
      const m = /^URIs:\s*(.+)$/.exec(line);
      const uri = m?.[1]!.split(/\s+/).find((u) => !u.includes('security'));
      if (uri) return uri;
    }
  }
  const list = join(root, 'etc/apt/sources.list');
  if (existsSync(list)) {
    for (const line of readFileSync(list, 'utf8').split('\n')) {
      if (!line.startsWith('deb ') || line.includes('security')) continue;
      const uri = line.split(/\s+/).find((w) => /^(https?|file):/.test(w));
      if (uri) return uri;
    }
  }
  return 'http://deb.debian.org/debian';
}

export interface DebianImageOptions {
  cacheDir: string;
  progress: (line: string) => void;
  mirror?: string;
  busybox?: string;
  ref?: string;
}

function run(cmd: string, args: string[], progress: (l: string) => void, logPath: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const log: string[] = [];
    let last = 0;
    const onData = (b: Buffer) => {
      for (const l of b.toString().split('\n')) {
        if (!l) continue;
        log.push(l);
        // debootstrap's "I: Retrieving x" / "I: Unpacking x" lines, at most one per 5 s
        if (l.startsWith('I: ') && Date.now() - last > 5000) {
          last = Date.now();
          progress(`  debootstrap: ${l.slice(3)}`);
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => reject(new LocalImageError(`cannot run ${cmd}: ${err.message} (apt-get install debootstrap)`, 'VNODE_IMAGE_PREREQUISITE_MISSING')));
    child.on('close', (code) => {
      writeFileSync(logPath, log.join('\n') + '\n');
      if (code === 0) resolve();
      else reject(new LocalImageError(`${cmd} exited with ${code}; last lines:\n${log.slice(-8).join('\n')}\n(full log: ${logPath})`, 'VNODE_IMAGE_BUILD_FAILED'));
    });
  });
}

/** Unmounts what debootstrap may have left mounted below `rootfs` (proc, sys, dev/pts), deepest first. */
function unmountBelow(rootfs: string): void {
  const mounts = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4]).filter((m): m is string => !!m && m.startsWith(`${rootfs}/`));
  for (const m of mounts.sort().reverse()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
}

/** Builds (or finds in the cache) the archive of one Debian image. */
export async function debianImage(name: DebianImageName, opts: DebianImageOptions): Promise<ImageArchive> {
  const recipe = DEBIAN_IMAGES[name];
  const ref = opts.ref ?? recipe.ref;
  const mirror = opts.mirror ?? hostDebianMirror();
  const busybox = opts.busybox ?? DEFAULT_BUSYBOX;
  const key = createHash('sha256')
    .update(JSON.stringify({ RECIPE_VERSION, SUITE, mirror, ref, recipe, busybox: recipe.withBusybox ? [fileKey(busybox), fileKey(DEFAULT_CATATONIT)] : '' }))
    .digest('hex').slice(0, 16);
  mkdirSync(opts.cacheDir, { recursive: true });
  const out = join(opts.cacheDir, `${name}-${key}.tar`);
  const meta = `${out}.json`;
  if (existsSync(out) && existsSync(meta)) {
    opts.progress(`image ${ref}: cached (${out})`);
    return { ...JSON.parse(readFileSync(meta, 'utf8')), path: out };
  }
  for (const stale of readdirSync(opts.cacheDir).filter((f) => f.startsWith(`${name}-`) && !f.startsWith(`${name}-${key}`))) {
    rmSync(join(opts.cacheDir, stale), { recursive: true, force: true });
  }
  const work = join(opts.cacheDir, `${name}.build.${process.pid}`);
  const rootfs = join(work, 'rootfs');
  const debs = join(opts.cacheDir, 'debs');
  mkdirSync(debs, { recursive: true });
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  try {
    const t0 = Date.now();
    opts.progress(`image ${ref}: debootstrap --variant=minbase ${SUITE} from ${mirror} with ${recipe.packages.join(', ')} (about a minute)…`);
    // the log goes beside the cache, not into `work`: a failure's message points at it after cleanup
    await run('debootstrap', ['--variant=minbase', '--components=main', `--include=${recipe.packages.join(',')}`, `--cache-dir=${debs}`, SUITE, rootfs, mirror], opts.progress, join(opts.cacheDir, `${name}.debootstrap.log`));
    unmountBelow(rootfs);
    for (const d of ['var/lib/apt/lists', 'usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'var/cache/apt', 'var/log/apt']) {
      rmSync(join(rootfs, d), { recursive: true, force: true });
      mkdirSync(join(rootfs, d), { recursive: true });
    }
    // a fresh machine-id at first boot (systemd), never the builder's
    writeFileSync(join(rootfs, 'etc/machine-id'), '');
    for (const [path, f] of Object.entries(recipe.files ?? {})) {
      mkdirSync(join(rootfs, dirname(path)), { recursive: true });
      writeFileSync(join(rootfs, path), f.text, { mode: f.mode });
      chmodSync(join(rootfs, path), f.mode);
    }
    if (recipe.withBusybox) {
      const bb = busyboxImage(join(opts.cacheDir, 'inner'), INNER_BUSYBOX_REF, busybox);
      mkdirSync(join(rootfs, 'usr/share/vnode/images'), { recursive: true });
      copyFileSync(bb.path, join(rootfs, INNER_BUSYBOX_ARCHIVE));
      copyFileSync(pauseImage(join(opts.cacheDir, 'inner'), INNER_PAUSE_REF).path, join(rootfs, INNER_PAUSE_ARCHIVE));
    }
    opts.progress(`image ${ref}: debootstrap done in ${Math.round((Date.now() - t0) / 1000)} s; writing the archive…`);
    const info = await rootfsArchive(rootfs, out, { ...recipe.image, ref });
    writeFileSync(meta, JSON.stringify(info));
    return { ...info, path: out };
  } finally {
    unmountBelow(rootfs);
    rmSync(work, { recursive: true, force: true });
  }
}
