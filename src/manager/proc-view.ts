// The per-pod view of /proc and /sys that vnodefs serves inside vNodes. One vnodefs
// entry per pod (per task without CRI): its base cgroup is the pod's, so a container
// reads its own limits, else its pod's; uptime counts from the vNode's start and PIDs
// are the vNode's, and sysctls and the load are shared by every pod of the vNode (one
// vnodefs scope per vNode). (A Kubernetes namespace has no cgroup of its own for a
// per-namespace vNode to be measured by; with VNODE_PER_POD=true a pod is its vNode.)
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { OciMount } from '../oci/index.js';
import type { Logger } from '../log/index.js';
import { VnodeFs, type VnodeSpec } from '../vnodefs/index.js';

/** The /proc paths runc (1.1) lets a bind mount cover; anything else in /proc it refuses. */
export const RUNC_PROC_BINDS = new Set([
  '/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime', '/proc/loadavg', '/proc/slabinfo', '/proc/net/dev', '/proc/sys/kernel/ns_last_pid',
]);

/** vnodefs entry ids: short, and within vnodefs' id pattern. */
export function viewId(kind: 'pod' | 'task', id: string): string {
  return `${kind}-${id.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 48)}`;
}

export class ProcView {
  constructor(readonly fs: VnodeFs) {}

  static async mount(mountpoint: string, entries: Record<string, VnodeSpec>, log?: Logger): Promise<ProcView> {
    return new ProcView(await VnodeFs.mount({ mountpoint, vnodes: entries, ...(log ? { log } : {}) }));
  }

  add(id: string, spec: VnodeSpec): void {
    this.fs.addVnode(id, spec);
  }

  /**
   * Looks up every file a container of this entry will bind, so the kernel has the
   * names cached (they stay valid while the entry is served) before runc and vnode-bind
   * bind them: each uncached name costs a FUSE round trip inside StartContainer.
   * The lookups go through the threadpool, never this thread (it is the one answering
   * them), and one at a time: lookups blocked in every pool thread would leave none for
   * the server's own read of /dev/fuse, and nothing would answer them.
   */
  warm(id: string): void {
    const sources = this.fs.bindMounts(id).map((m) => m.source);
    const next = (): void => {
      const source = sources.shift();
      if (source) void stat(source).then(next, next);
    };
    next();
  }

  remove(id: string): void {
    this.fs.removeVnode(id);
  }

  has(id: string): boolean {
    try {
      this.fs.sysctlsOf(id);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * What puts the entry's files into a container: bind mounts over /proc and /sys (after
   * the container's own), the host-only /proc files to mask, and the binds runc refuses
   * (it binds over /proc only at the few paths LXCFS uses, RUNC_PROC_BINDS): per-vNode
   * /proc/sys files and /proc/pressure go to the vnode-bind hook instead. A container
   * that is not privileged gets /proc/sys read-only afterwards, as always.
   */
  placement(id: string): { mounts: OciMount[]; maskedPaths: string[]; hookBinds: { mode: 'ro' | 'rw'; source: string; destination: string }[] } {
    const mounts: OciMount[] = [];
    const maskedPaths: string[] = [];
    const hookBinds: { mode: 'ro' | 'rw'; source: string; destination: string }[] = [];
    const maskedSource = join(this.fs.pathOf(id), 'masked/file');
    for (const m of this.fs.bindMounts(id)) {
      const inProc = m.destination.startsWith('/proc/');
      if (!inProc || RUNC_PROC_BINDS.has(m.destination)) mounts.push({ destination: m.destination, type: m.type, source: m.source, options: m.options });
      else if (m.source === maskedSource) maskedPaths.push(m.destination);
      else hookBinds.push({ mode: m.options.includes('ro') ? 'ro' : 'rw', source: m.source, destination: m.destination });
    }
    return { mounts, maskedPaths, hookBinds };
  }

  sysctls(id: string): Record<string, string> {
    return this.fs.sysctlsOf(id);
  }
}
