// A vNode's own network namespace on the pod network (hostNetwork pods of the vNode
// share it). The manager runs the vnode runtime's CNI chain for it, as containerd does
// for a pod: the namespace is bind-mounted at <dir>/netns first, so that DEL still
// finds it (and the veth and lease in it) after the vNode's init has died, and a
// record <dir>/cni.json lets a later manager run DEL for a vNode whose manager died.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mount, umount, MS_BIND } from '../sys/index.js';
import { cniAdd, cniDel, type CniConfList } from './cni-chain.js';
import { NetError } from './errors.js';
import { isNetnsFile } from './netns-file.js';

export interface VnodeNetworkRecord {
  version: 1;
  containerId: string;
  netns: string;
  ifName: string;
  list: CniConfList;
  binDirs: string[];
  args: Record<string, string>;
  /** ADD's result (DEL gets it as prevResult); absent while ADD runs. */
  result?: unknown;
}

export interface AttachInput {
  /** The vNode's name (its CNI container ID is vnode-<name>). */
  name: string;
  /** Host PID of the vNode's init. */
  initPid: number;
  /** The vNode's directory: netns and cni.json go there. */
  dir: string;
  list: CniConfList;
  binDirs: string[];
  /** CNI_ARGS, e.g. K8S_POD_NAMESPACE of the vNode's namespace. */
  args?: Record<string, string>;
}

const recordPath = (dir: string) => join(dir, 'cni.json');

function save(dir: string, rec: VnodeNetworkRecord): void {
  const tmp = `${recordPath(dir)}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(rec));
  renameSync(tmp, recordPath(dir));
}

/** CNI container IDs are letters, digits, _ . -: the vNode's name mapped onto them. */
export function vnodeContainerId(name: string): string {
  return `vnode-${name.replace(/[^A-Za-z0-9_.-]/g, '_')}`;
}

/** Gives the vNode's namespace an interface (eth0) on the pod network; returns ADD's result. */
export async function attachVnodeNetwork(i: AttachInput): Promise<unknown> {
  mkdirSync(i.dir, { recursive: true, mode: 0o700 });
  const netns = join(i.dir, 'netns');
  if (!isNetnsFile(netns)) {
    closeSync(openSync(netns, 'w', 0o600));
    try {
      mount(`/proc/${i.initPid}/ns/net`, netns, null, MS_BIND);
    } catch (e) {
      throw new NetError('VNODE_NET_MOUNT', `cannot bind the network namespace of vNode ${i.name} at ${netns}: ${(e as Error).message}`);
    }
  }
  const rec: VnodeNetworkRecord = { version: 1, containerId: vnodeContainerId(i.name), netns, ifName: 'eth0', list: i.list, binDirs: i.binDirs, args: i.args ?? {} };
  save(i.dir, rec); // before ADD: a crash during it still gets its DEL
  try {
    rec.result = await cniAdd(i.list, { containerId: rec.containerId, netns, ifName: rec.ifName, args: rec.args, binDirs: i.binDirs });
  } catch (e) {
    // cniAdd ran DEL for the plugins it had added: only the mount and the record are left
    forget(i.dir);
    throw e;
  }
  save(i.dir, rec);
  return rec.result;
}

/** DEL (with the recorded result), then the bind mount and the record go. Idempotent; works after the vNode died. */
export async function detachVnodeNetwork(dir: string): Promise<void> {
  let rec: VnodeNetworkRecord | undefined;
  try {
    rec = JSON.parse(readFileSync(recordPath(dir), 'utf8')) as VnodeNetworkRecord;
  } catch {
    rec = undefined;
  }
  if (rec) {
    // a namespace file that is no longer mounted means "gone": plugins then only release IPAM
    const ns = isNetnsFile(rec.netns) ? rec.netns : '';
    await cniDel(rec.list, { containerId: rec.containerId, netns: ns, ifName: rec.ifName, args: rec.args, binDirs: rec.binDirs }, rec.result);
  }
  forget(dir);
}

function forget(dir: string): void {
  const netns = join(dir, 'netns');
  if (existsSync(netns)) {
    umount(netns);
    rmSync(netns, { force: true });
  }
  rmSync(recordPath(dir), { force: true });
}
