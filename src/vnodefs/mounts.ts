// The bind mounts that put a vNode's vnodefs files over /proc and /sys inside its
// containers, in the shape of OCI runtime-spec mounts. Order matters: they must come
// after the container's own /proc and /sys mounts.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { PROC_FILES, SYSCTL_FILES } from './generators/index.js';

export interface BindMount {
  /** File or directory inside the vnodefs mount (host path). */
  source: string;
  /** Path inside the container. */
  destination: string;
  type: 'bind';
  options: string[];
}

/** Host files that only tell about the host: an empty file goes over each. */
export const MASKED_PROC_FILES = [
  'kcore', 'keys', 'key-users', 'timer_list', 'sched_debug', 'sysrq-trigger', 'kallsyms', 'buddyinfo',
  'config.gz', 'slabinfo', 'vmallocinfo', 'zoneinfo', 'pagetypeinfo', 'iomem', 'ioports', 'modules',
];

/** Host trees that only tell about the host: an empty directory goes over each. */
export const MASKED_DIRS = [
  '/sys/firmware', '/sys/kernel/debug', '/sys/kernel/tracing', '/sys/kernel/security',
  '/sys/devices/virtual/dmi', '/sys/class/dmi',
];

const RO = ['bind', 'ro', 'nosuid', 'nodev', 'noexec'];
const RW = ['bind', 'nosuid', 'nodev', 'noexec'];

export interface BindMountOptions {
  /** Whether a destination exists on this host (a bind needs its target); default: existsSync. */
  exists?: (path: string) => boolean;
}

/** Bind mounts for the vNode whose vnodefs directory is `vnodeDir` (`VnodeFs.pathOf(id)`). */
export function bindMountsFor(vnodeDir: string, opts: BindMountOptions = {}): BindMount[] {
  const exists = opts.exists ?? existsSync;
  const out: BindMount[] = [];
  const add = (source: string, destination: string, options = RO): void => {
    if (exists(destination)) out.push({ source, destination, type: 'bind', options: [...options] });
  };
  for (const name of Object.keys(PROC_FILES)) add(join(vnodeDir, 'proc', name), `/proc/${name}`);
  add(join(vnodeDir, 'sys/devices/system/cpu'), '/sys/devices/system/cpu');
  for (const name of MASKED_PROC_FILES) add(join(vnodeDir, 'masked/file'), `/proc/${name}`);
  for (const dir of MASKED_DIRS) add(join(vnodeDir, 'masked/dir'), dir);
  // Per-vNode sysctls are writable: they must not end up below a read-only /proc/sys.
  for (const name of Object.keys(SYSCTL_FILES)) add(join(vnodeDir, 'proc/sys', name), `/proc/sys/${name}`, RW);
  return out;
}
