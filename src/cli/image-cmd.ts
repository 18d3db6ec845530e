// `vnode image build-busybox [--containerd ADDRESS] [--busybox PATH] [--ref REF]`: builds a
// busybox image from Debian's busybox-static and imports it into containerd (k8s.io).
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ctrFor, ctrRunner, localPaths, recordedContainerdPath } from './containerd-local.js';
import { selectContainerd } from './containerd-select.js';
import { ExitCode, UsageError } from './errors.js';
import { BUSYBOX_REF, buildBusybox } from './images.js';
import { progressTo } from './output.js';

export const IMAGE_USAGE = `Usage: vnode image build-busybox [--containerd ADDRESS] [--busybox PATH] [--ref REF]

Builds a busybox image from Debian's busybox-static (/bin/busybox; apt-get install
busybox-static) and imports it into containerd's k8s.io namespace as ${BUSYBOX_REF}
(or --ref), with ctr. Without --containerd: the containerd "vnode run" would use.
`;

export async function imageCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        containerd: { type: 'string' }, busybox: { type: 'string' }, ref: { type: 'string' }, quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' },
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
  if (positionals[0] !== 'build-busybox' || positionals.length !== 1) throw new UsageError(`expected "build-busybox"\n${IMAGE_USAGE}`);
  const progress = progressTo(process.stderr, v.quiet ?? false);
  const sel = await selectContainerd(v.containerd, progress);
  const ctr = sel.local?.ctr ?? ctrRunner(ctrFor(recordedContainerdPath()), sel.address);
  const imagesDir = sel.local?.paths.imagesDir ?? join(localPaths().dataDir, 'images');
  const ref = await buildBusybox(ctr, imagesDir, progress, v.busybox, v.ref ?? BUSYBOX_REF);
  process.stdout.write(`${ref}\n`);
  return ExitCode.ok;
}
