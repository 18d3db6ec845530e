// The vnode runtime's CNI conf dir follows the node's primary network. `vnode install`
// writes <prefix>/etc/cni/net.d/<primary>.conflist: the primary conflist (containerd's CRI
// conf_dir, e.g. /etc/cni/net.d/10-calico.conflist) with vnode-cni appended. Network
// agents rewrite theirs after that (Calico and Cilium at every start, an upgrade, another
// network sorting first), so the manager watches the primary conf dir (fs.watch, plus a
// periodic catch-up for what a watch misses) and rewrites the copy, atomically, with
// install's own derivation (syncVnodeCni). containerd watches its conf dirs and reloads.
//
// Where the two dirs come from: VNODE_CNI_PRIMARY_CONF_DIR with VNODE_CNI_CONF_DIR, else
// the install record of the prefix the manager runs from (so both the service and a
// manager the shim spawned on an installed node follow). Neither (a checkout, `vnode
// run`, a record from an older install): nothing is followed.
//
// A primary network that disappears or does not load keeps the last good copy (a warning
// once per cause): the vnode dir is never left without a network.
import { watch, type FSWatcher } from 'node:fs';
import { installedCniDirs, syncVnodeCni, type VnodeCniPlan } from '../install/index.js';
import type { Logger } from '../log/index.js';

export const RESYNC_MS = 10_000;
const DEBOUNCE_MS = 200;

export interface CniFollowDirs {
  /** containerd's CRI conf_dir (host path): the primary network. */
  primary: string;
  /** The vnode runtime's cni_conf_dir (host path). */
  vnode: string;
  /** Where they were learned: for the log. */
  source: string;
}

/** The dirs to follow: the environment's, else the install record's; undefined: none. */
export function cniFollowDirs(env: NodeJS.ProcessEnv, installed: () => { primary: string; vnode: string; record: string } | undefined = installedCniDirs): CniFollowDirs | undefined {
  if (env.VNODE_CNI_PRIMARY_CONF_DIR && env.VNODE_CNI_CONF_DIR) {
    return { primary: env.VNODE_CNI_PRIMARY_CONF_DIR, vnode: env.VNODE_CNI_CONF_DIR, source: 'VNODE_CNI_PRIMARY_CONF_DIR' };
  }
  const rec = installed();
  return rec ? { primary: rec.primary, vnode: rec.vnode, source: rec.record } : undefined;
}

/** Watches the primary conf dir and keeps the vnode conf dir in step. */
export class CniFollower {
  private watcher: FSWatcher | undefined;
  private readonly timer: NodeJS.Timeout;
  private pending: NodeJS.Timeout | undefined;
  private closed = false;
  private lastWarning: string | undefined;

  constructor(readonly dirs: CniFollowDirs, private readonly log: Logger, resyncMs = RESYNC_MS) {
    this.timer = setInterval(() => this.sync(), resyncMs).unref();
    this.rewatch();
    this.sync();
  }

  private rewatch(): void {
    this.watcher?.close();
    this.watcher = undefined;
    try {
      this.watcher = watch(this.dirs.primary, { persistent: false }, () => this.schedule());
      // the dir removed (or replaced by a new one): the interval watches again once it is back
      this.watcher.on('error', () => { this.watcher?.close(); this.watcher = undefined; });
    } catch {
      /* not there yet: the interval catches up */
    }
  }

  /** Agents write in bursts (tmp file, rename, chmod): one catch-up after the burst. */
  private schedule(): void {
    if (this.closed || this.pending) return;
    this.pending = setTimeout(() => { this.pending = undefined; this.sync(); }, DEBOUNCE_MS);
    this.pending.unref();
  }

  /** One catch-up: logs a rewrite at info, a kept copy at warn (once per cause). */
  sync(): VnodeCniPlan | undefined {
    if (this.closed) return undefined;
    if (!this.watcher) this.rewatch();
    let plan: VnodeCniPlan;
    try {
      plan = syncVnodeCni(this.dirs.primary, this.dirs.vnode);
    } catch (e) {
      this.warnOnce(`following ${this.dirs.primary} into ${this.dirs.vnode}: ${(e as Error).message}`);
      return undefined;
    }
    if (plan.kind === 'keep') {
      this.warnOnce(plan.warning);
    } else {
      this.lastWarning = undefined;
      if (plan.kind === 'write') {
        this.log.info({ primary: `${this.dirs.primary}/${plan.primary}`, file: `${this.dirs.vnode}/${plan.name}`, removed: plan.remove, why: plan.why },
          `vnode CNI conflist ${this.dirs.vnode}/${plan.name} rewritten from ${this.dirs.primary}/${plan.primary} (${plan.why}${plan.remove.length ? `; removed ${plan.remove.join(', ')}` : ''})`);
      }
    }
    return plan;
  }

  private warnOnce(msg: string): void {
    if (msg === this.lastWarning) return;
    this.lastWarning = msg;
    this.log.warn(`vnode CNI: ${msg}`);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    if (this.pending) clearTimeout(this.pending);
    this.watcher?.close();
  }
}
