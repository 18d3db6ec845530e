// What `start` prints: the shim protocol containerd reads. Protocol 3 (containerd 2.x, the
// JSON its own runc shim prints) lets containerd reach a sandbox's containers over the
// sandbox's address, with no `start` or `delete` of the shim binary per container, and
// calls containerd.task.v3.Task (src/taskapi). containerd 1.x refuses protocol 3
// ("unsupported shim version"), so it gets protocol 2: the plain address, which every
// containerd accepts. The C front (native/shim-start.c) makes the same choice, caches
// containerd's version and passes its choice on in VNODE_SHIM_PROTOCOL.
import { execFileSync } from 'node:child_process';

export type ShimProtocol = 2 | 3;

/** The major version in `containerd --version` output ("containerd <module> <version> ..."), or 0. */
export function majorOfVersionLine(line: string): number {
  const version = line.trim().split(/\s+/)[2] ?? '';
  const m = /^v?(\d+)/.exec(version);
  return m ? Number(m[1]) : 0;
}

/** VNODE_SHIM_PROTOCOL if 2 or 3, else 3 when `publishBinary --version` says containerd 2 or newer. */
export function shimProtocol(publishBinary: string, env: NodeJS.ProcessEnv = process.env): ShimProtocol {
  const forced = env.VNODE_SHIM_PROTOCOL;
  if (forced === '2' || forced === '3') return Number(forced) as ShimProtocol;
  if (!publishBinary) return 2;
  try {
    const out = execFileSync(publishBinary, ['--version'], { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'ignore'] });
    return majorOfVersionLine(out) >= 2 ? 3 : 2;
  } catch {
    return 2;
  }
}

/** `start`'s answer for the manager at `socket`. */
export function startResponse(socket: string, protocol: ShimProtocol): string {
  const address = `unix://${socket}`;
  return protocol === 3 ? JSON.stringify({ version: 3, address, protocol: 'ttrpc' }) : address;
}
