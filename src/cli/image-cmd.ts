// `vnode image build-busybox [--containerd ADDRESS] [--busybox PATH] [--ref REF]`: builds a
// busybox image from Debian's busybox-static and imports it into containerd (k8s.io).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildVnodeImage, VNODE_IMAGE_REF } from '../install/index.js';
import { parseArgs } from 'node:util';
import { ctrFor, ctrRunner, localPaths, recordedContainerdPath } from './containerd-local.js';
import { selectContainerd } from './containerd-select.js';
import { ExitCode, UsageError } from './errors.js';
import { BUSYBOX_REF, buildBusybox } from './images.js';
import { progressTo } from './output.js';

export const IMAGE_USAGE = `Usage: vnode image build-busybox [--containerd ADDRESS] [--busybox PATH] [--ref REF]
       vnode image build-vnode -o FILE [--ref REF] [--busybox PATH]

build-busybox: builds a busybox image from Debian's busybox-static (/bin/busybox; apt-get
install busybox-static) and imports it into containerd's k8s.io namespace as ${BUSYBOX_REF}
(or --ref), with ctr. Without --containerd: the containerd "vnode run" would use.

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
  if (positionals[0] !== 'build-busybox' || positionals.length !== 1) throw new UsageError(`expected "build-busybox" or "build-vnode"\n${IMAGE_USAGE}`);
  const progress = progressTo(process.stderr, v.quiet ?? false);
  const sel = await selectContainerd(v.containerd, progress);
  const ctr = sel.local?.ctr ?? ctrRunner(ctrFor(recordedContainerdPath()), sel.address);
  const imagesDir = sel.local?.paths.imagesDir ?? join(localPaths().dataDir, 'images');
  const ref = await buildBusybox(ctr, imagesDir, progress, v.busybox, v.ref ?? BUSYBOX_REF);
  process.stdout.write(`${ref}\n`);
  return ExitCode.ok;
}
