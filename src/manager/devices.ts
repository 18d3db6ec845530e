// Finding a device's host node by its number: an OCI spec names a device by its path in
// the container and its type and numbers, and in a user namespace the node must be
// bind-mounted from the host (src/oci/planner.ts).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** major/minor of a dev_t as glibc encodes it. */
export function devNumbers(rdev: bigint): { major: number; minor: number } {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & 0xfffff000n);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & 0xffffff00n);
  return { major: Number(major), minor: Number(minor) };
}

function matches(path: string, type: 'c' | 'b', major: number, minor: number): boolean {
  try {
    const st = statSync(path, { bigint: true });
    if (!(type === 'c' ? st.isCharacterDevice() : st.isBlockDevice())) return false;
    const n = devNumbers(st.rdev);
    return n.major === major && n.minor === minor;
  } catch {
    return false;
  }
}

/**
 * The host node of device `type major:minor`: `preferred` if it is that device, else the
 * first one found in /dev and its subdirectories (one level: /dev/dri, /dev/net, …).
 */
export function hostDeviceNode(type: 'c' | 'b', major: number, minor: number, preferred: string, devDir = '/dev'): string | undefined {
  if (preferred.startsWith(`${devDir}/`) && matches(preferred, type, major, minor)) return preferred;
  const dirs = [devDir];
  for (let i = 0; i < dirs.length; i++) {
    let entries;
    try {
      entries = readdirSync(dirs[i]!, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = join(dirs[i]!, e.name);
      if (e.isDirectory() && dirs[i] === devDir && e.name !== 'shm' && e.name !== 'pts') dirs.push(p);
      else if ((e.isCharacterDevice() || e.isBlockDevice()) && matches(p, type, major, minor)) return p;
    }
  }
  return undefined;
}
