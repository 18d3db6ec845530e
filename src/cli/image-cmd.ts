// `vnode image build-busybox|build-docker|build-systemd [--containerd ADDRESS] [--ref REF]`:
// builds an image from Debian's packages (busybox-static; debootstrap for docker and systemd)
// and imports it into containerd (k8s.io). `build-vnode -o FILE` writes the DaemonSet's image.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildVnodeImage, VNODE_IMAGE_REF } from '../install/index.js';
import { parseArgs } from 'node:util';
import { ctrFor, ctrRunner, localPaths, recordedContainerdPath } from './containerd-local.js';
import { selectContainerd } from './containerd-select.js';
import { CliError, ExitCode, UsageError } from './errors.js';
import { BUSYBOX_REF, buildBusybox } from './images.js';
import { progressTo } from './output.js';
import { DEBIAN_IMAGES, debianImage, importImage, LocalImageError, type DebianImageName } from '../oci/index.js';

export const IMAGE_USAGE = `Usage: vnode image build-busybox [--containerd ADDRESS] [--busybox PATH] [--ref REF]
       vnode image build-docker  [--containerd ADDRESS] [--ref REF]
       vnode image build-systemd [--containerd ADDRESS] [--ref REF]
       vnode image build-vnode -o FILE [--ref REF] [--busybox PATH]

build-busybox: builds a busybox image from Debian's busybox-static (/bin/busybox; apt-get
install busybox-static) and imports it into containerd's k8s.io namespace as ${BUSYBOX_REF}
(or --ref), with ctr. Without --containerd: the containerd "vnode run" would use.

build-docker: Debian bookworm (debootstrap --variant=minbase, from the mirror apt uses) with
docker.io (dockerd, containerd, runc), iptables, the CNI plugins and busybox, plus a busybox
image for the inner runtime at /usr/share/vnode/images/busybox.tar; imported as
${DEBIAN_IMAGES.docker.ref}. Run dockerd in a privileged pod (examples/dind-pod.yaml).

build-systemd: Debian bookworm with systemd, dbus and /sbin/init as its command; imported as
${DEBIAN_IMAGES.systemd.ref} (examples/systemd-pod.yaml).

Both are cached below vnode's images directory and need root and debootstrap.

build-vnode: writes the DaemonSet's image (${VNODE_IMAGE_REF}, or --ref) as an OCI archive:
this build and its Node.js in /opt/vnode, busybox-static for sh, nsenter and wget. Import it
on a node with: ctr -n k8s.io images import FILE
`;

export async function imageCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        containerd: { type: 'string' }, busybox: { type: 'string' }, ref: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' },
        output: { type: 'string', short: 'o' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    process.stdout.write(IMAGE_USAGE);
    return ExitCode.ok;
  }
  if (positionals[0] === 'build-vnode' && positionals.length === 1) {
    if (!v.output) throw new UsageError(`build-vnode: -o FILE is required\n${IMAGE_USAGE}`);
    const img = buildVnodeImage({ ref: v.ref, busybox: v.busybox });
    writeFileSync(v.output, img.archive);
    process.stdout.write(`${img.ref} ${img.manifestDigest} ${v.output} (${img.files} files, ${(img.archive.length / 1048576).toFixed(1)} MiB)\n`);
    return ExitCode.ok;
  }
  const debian: Record<string, DebianImageName> = { 'build-docker': 'docker', 'build-systemd': 'systemd' };
  const verb = positionals[0] ?? '';
  if ((verb !== 'build-busybox' && !debian[verb]) || positionals.length !== 1) {
    throw new UsageError(`expected "build-busybox", "build-docker", "build-systemd" or "build-vnode"\n${IMAGE_USAGE}`);
  }
  const progress = progressTo(process.stderr, v.quiet ?? false);
  const sel = await selectContainerd(v.containerd, progress);
  const ctr = sel.local?.ctr ?? ctrRunner(ctrFor(recordedContainerdPath()), sel.address);
  const imagesDir = sel.local?.paths.imagesDir ?? join(localPaths().dataDir, 'images');
  const name = debian[verb];
  if (name) {
    try {
      const img = await debianImage(name, { cacheDir: imagesDir, progress, ref: v.ref, busybox: v.busybox });
      progress(`importing image ${img.ref} into containerd at ${sel.address}…`);
      await importImage(ctr, img);
      process.stdout.write(`${img.ref}\n`);
      return ExitCode.ok;
    } catch (err) {
      if (err instanceof LocalImageError) throw new CliError(`cannot build the ${name} image: ${err.message}`);
      throw err;
    }
  }
  const ref = await buildBusybox(ctr, imagesDir, progress, v.busybox, v.ref ?? BUSYBOX_REF);
  process.stdout.write(`${ref}\n`);
  return ExitCode.ok;
}
