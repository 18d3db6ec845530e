// The marker vnode-cni (native/vnode-cni.c) leaves on ADD: <dir>/<container id>.json.
// Its presence is how the manager knows that a sandbox's network came through the
// vnode runtime's CNI chain (hostPorts refused, links to adopt); DEL removes it.
import { readdirSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { NetError } from './errors.js';

export interface CniMarker {
  version: 1;
  containerId: string;
  /** The network configuration's name (markers of vnode-cni before CNI GC have none). */
  network?: string;
  netns: string;
  ifname: string;
  podNamespace: string;
  podName: string;
}

/** vnode-cni's default state dir: $VNODE_RUN_DIR/cni, else /run/vnode/cni (a conflist's "stateDir" overrides it there). */
export function cniMarkerDir(env: NodeJS.ProcessEnv = process.env): string {
  const run = env.VNODE_RUN_DIR;
  return join(run && run.startsWith('/') ? run : '/run/vnode', 'cni');
}

export function readCniMarker(dir: string, containerId: string): CniMarker | undefined {
  if (!/^[A-Za-z0-9_.-]+$/.test(containerId) || containerId.startsWith('.')) return undefined;
  try {
    const m = JSON.parse(readFileSync(join(dir, `${containerId}.json`), 'utf8')) as CniMarker;
    return m.version === 1 && m.containerId === containerId ? m : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Throws unless vnode-cni ran ADD for this sandbox on this netns path: a sandbox whose
 * network another chain set up (the host's portmap may have mapped a hostPort) is refused.
 */
export function requireVnodeCni(dir: string, sandboxId: string, netnsPath: string): CniMarker {
  const m = readCniMarker(dir, sandboxId);
  if (!m || m.netns !== netnsPath) {
    throw new NetError(
      'VNODE_NET_NO_VNODE_CNI',
      `sandbox ${sandboxId}: its network (${netnsPath}) was not set up by vnode-cni, so vnode cannot vouch for it (host ports, an interface to adopt); ` +
        'give the vnode runtime its own CNI chain ending in vnode-cni: cni_conf_dir (and cni_max_conf_num = 1) in its runtime table, see docs/networking.md',
    );
  }
  return m;
}

/** Markers whose netns is gone (DEL never came, e.g. containerd died): removed; returns their container IDs. */
export function sweepCniMarkers(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return [];
  }
  const gone: string[] = [];
  for (const f of names) {
    const id = f.slice(0, -'.json'.length);
    const m = readCniMarker(dir, id);
    if (m && existsSync(m.netns)) continue;
    rmSync(join(dir, f), { force: true });
    gone.push(id);
  }
  return gone;
}
