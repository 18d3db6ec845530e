// The install record, <prefix>/install.json: what install changed, so that uninstall can
// give the original config back byte for byte and remove exactly what install added.
import { join } from 'node:path';
import type { ConfigFormat } from './config-edit.js';
import { buildRoot, readIfExists } from './files.js';
import { hostRoot, type HostRoot } from './node.js';

export interface InstallRecord {
  kind: 'vnode-install';
  recordVersion: 1;
  prefix: string;
  /** Host path of containerd's config. */
  config: string;
  format: ConfigFormat;
  /** Host path of the copy of the original bytes; null when there was no config file. */
  backup: string | null;
  /** sha256 of the original config; null when there was no config file. */
  originalSha256: string | null;
  /** sha256 of the config as install left it. */
  installedSha256: string;
  /** The vnode runtime's CNI conf dir and the vnode-cni link in the node's CNI bin dir. */
  cniConfDir: string;
  cniPlugin: string;
  /** containerd's CRI conf_dir, whose primary network the vnode conflist follows (src/manager/cni-follow.ts); missing in records of older installs. */
  primaryCniConfDir?: string;
  service: boolean;
  /** containerd 1.6 only: the link to the shim in containerd's PATH. */
  shimLink?: string;
}

export const recordPath = (prefix: string): string => join(prefix, 'install.json');

export function readRecord(h: HostRoot, prefix: string): InstallRecord | undefined {
  const b = readIfExists(h.path(recordPath(prefix)));
  if (!b) return undefined;
  try {
    const r = JSON.parse(b.toString('utf8')) as InstallRecord;
    return r.kind === 'vnode-install' ? r : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The CNI conf dirs the manager keeps in step, from the install record of the prefix this
 * build runs from (the manager runs as <prefix>/bin/vnode-manager, as the service and
 * when the shim spawns it): the primary conf dir and the vnode runtime's. Undefined when
 * this build is not an installed one (a checkout, `vnode run`) or the record predates it.
 */
export function installedCniDirs(): { primary: string; vnode: string; record: string } | undefined {
  let root: string;
  try { root = buildRoot(); } catch { return undefined; }
  const rec = readRecord(hostRoot('/'), root);
  if (!rec?.primaryCniConfDir) return undefined;
  return { primary: rec.primaryCniConfDir, vnode: rec.cniConfDir, record: recordPath(root) };
}
