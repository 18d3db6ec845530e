// Writes a configMap/secret/downwardAPI/projected volume into the pod's directory on the
// host, the way kubelet does: a tmpfs mounted on the volume's directory for secrets and
// projected volumes, then the AtomicWriter layout planned by volume-files.ts. Files are
// owned by root (host root: the vnode runtime ID-maps the pod directory, so they are
// root's in the vNode too) with exactly the modes asked for. The tmpfs goes when the pod
// directory does (pod-cleanup.ts unmounts everything below it).
import { chmodSync, lchownSync, mkdirSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import { mount } from '../sys/index.js';
import { atomicLayout, timestampedDirName, type VolumeContent } from './volume-files.js';

/** Creates `dir` (a tmpfs when the content says so) and writes the content's layout into it. */
export function writeObjectVolume(dir: string, content: VolumeContent, now = new Date()): void {
  mkdirSync(dir, { recursive: true });
  if (content.tmpfs) {
    // as kubelet's wrapped emptyDir of medium Memory: tmpfs with its default root mode 1777
    mount('tmpfs', dir, 'tmpfs', 0, 'mode=1777');
  } else {
    chmodSync(dir, 0o777);
  }
  for (const step of atomicLayout(content.files, timestampedDirName(now, randomInt(2 ** 31)))) {
    if (step.op === 'rename') {
      renameSync(join(dir, step.from), join(dir, step.to));
      continue;
    }
    const path = join(dir, step.path);
    if (step.op === 'dir') {
      mkdirSync(path);
      chmodSync(path, step.mode); // not the umask's
    } else if (step.op === 'file') {
      writeFileSync(path, step.data, { mode: step.mode });
      chmodSync(path, step.mode);
    } else {
      symlinkSync(step.target, path);
    }
    lchownSync(path, 0, 0);
  }
}
