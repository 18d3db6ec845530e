// A sandbox's network at create, delete and manager start (docs/networking.md §4): the
// pod network CNI made in containerd's netns is adopted by the sandbox's namespace,
// which the vNode owns; a hostNetwork sandbox joins the vNode's own namespace, which
// gets an interface on the pod network once per vNode. A sandbox whose network did not
// come through vnode-cni is refused: vnode runs no pod whose network it did not set up.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  adoptPodNetwork, attachVnodeNetwork, captureNetns, cniMarkerDir, detachVnodeNetwork, loadConfList, NetError, readAdoptionRecord, recoverAdoption,
  removeAdoptionRecord, requireVnodeCni, sweepCniMarkers, type NetnsSnapshot,
} from '../../net/index.js';
import type { Plan } from '../../oci/index.js';
import type { Logger } from '../../log/index.js';
import type { InstancePaths } from '../paths.js';
import type { Vnode } from '../vnode.js';

/** Where the vnode runtime's CNI chain is, for the vNode's own attachment (hostNetwork pods). */
export interface NetworkOptions {
  /** The vnode runtime's cni_conf_dir ($VNODE_CNI_CONF_DIR). */
  cniConfDir?: string;
  /** containerd's CNI plugin directories ($VNODE_CNI_BIN_DIRS, colon-separated). */
  cniBinDirs?: string[];
  /** vnode-cni's marker directory (default $VNODE_RUN_DIR/cni). */
  markerDir?: string;
  /**
   * hostNetwork sandboxes are run ($VNODE_ALLOW_HOST_NETWORK=true). Off by default:
   * containerd's PortForward to a hostNetwork pod dials localhost in containerd's own
   * (the host's) network namespace, not the vNode's, and gives the runtime no say.
   */
  allowHostNetwork?: boolean;
}

/** From the manager's environment (containerd's, through the shim). */
export function networkOptionsFromEnv(env: NodeJS.ProcessEnv): NetworkOptions {
  const bins = (env.VNODE_CNI_BIN_DIRS ?? '').split(':').filter(Boolean);
  return {
    cniConfDir: env.VNODE_CNI_CONF_DIR || undefined,
    cniBinDirs: bins.length > 0 ? bins : undefined,
    markerDir: cniMarkerDir(env),
    allowHostNetwork: env.VNODE_ALLOW_HOST_NETWORK === 'true',
  };
}

export function adoptionRecordPath(paths: InstancePaths, ns: string, id: string): string {
  return join(paths.state, 'net', ns, `${id}.json`);
}

const vnodeNetDir = (v: Vnode) => join(v.dir, 'net');

/**
 * Before the runtime runs: a sandbox with containerd's netns must have vnode-cni's
 * marker for it (issue 9, item 8); a hostNetwork sandbox needs the admin's consent.
 */
export function requirePodNetwork(o: NetworkOptions, sandboxId: string, pod: string | undefined, plan: Plan): void {
  if (plan.containerdNetns) requireVnodeCni(o.markerDir ?? cniMarkerDir(), sandboxId, plan.containerdNetns);
  if (plan.hostNetwork && !o.allowHostNetwork) {
    throw new NetError(
      'VNODE_NET_HOST_NETWORK_REFUSED',
      `${pod ?? `sandbox ${sandboxId}`} asks for hostNetwork, which vnode refuses unless the node allows it: containerd's PortForward to a hostNetwork pod ` +
        "reaches the host's localhost, not the vNode's (docs/networking.md); to allow it anyway set VNODE_ALLOW_HOST_NETWORK=true in containerd's environment",
    );
  }
}

/** hostNetwork attachments under way, per vNode directory: two pods arriving together attach once. */
const attaching = new Map<string, Promise<void>>();

/** Gives the vNode's own namespace its interface on the pod network, unless it has one. */
export function attachHostNetwork(o: NetworkOptions, v: Vnode, podNamespace: string | undefined): Promise<void> {
  const dir = vnodeNetDir(v);
  if (existsSync(join(dir, 'cni.json'))) return Promise.resolve();
  let p = attaching.get(dir);
  if (!p) {
    p = attachNow(o, v, dir, podNamespace).finally(() => attaching.delete(dir));
    attaching.set(dir, p);
  }
  return p;
}

async function attachNow(o: NetworkOptions, v: Vnode, dir: string, podNamespace: string | undefined): Promise<void> {
  if (existsSync(join(dir, 'cni.json'))) return;
  if (!o.cniConfDir || !o.cniBinDirs) {
    throw new NetError(
      'VNODE_NET_CNI_CONFIG',
      `a hostNetwork pod joins vNode ${v.name}'s network namespace, which vnode attaches to the pod network with the vnode runtime's CNI chain: ` +
        "set VNODE_CNI_CONF_DIR (the vnode runtime's cni_conf_dir) and VNODE_CNI_BIN_DIRS (containerd's CNI bin dirs, colon-separated) in containerd's environment",
    );
  }
  const list = loadConfList(o.cniConfDir);
  await attachVnodeNetwork({ name: v.name, initPid: v.initPid, dir, list, binDirs: o.cniBinDirs, args: podNamespace ? { K8S_POD_NAMESPACE: podNamespace } : {} });
}

/** Takes the vNode's namespace off the pod network (its removal; also after its init died). */
export function detachHostNetwork(v: Vnode): Promise<void> {
  return detachVnodeNetwork(vnodeNetDir(v));
}

/**
 * Before `runtime create`: reads containerd's netns (CNI ADD is done by now; in-process,
 * ~2 ms). Undefined when nothing is to be adopted; a failure surfaces in
 * adoptSandboxNetwork, after the runtime's create, like any other adoption failure.
 */
export function captureSandboxNetwork(plan: Plan): Promise<NetnsSnapshot> | undefined {
  if (!plan.newPodNetwork || !plan.containerdNetns) return undefined;
  const p = captureNetns(plan.containerdNetns);
  p.catch(() => undefined); // awaited later, or dropped when the create fails first
  return p;
}

/**
 * Adoptions under way, by task: a sandbox's create returns while its links move (the
 * kernel takes 10–30 ms over a move), and its start waits for them, so the move runs
 * alongside containerd's create → start and `runtime start`. A failed one stays until
 * the start or the delete takes it.
 */
const adopting = new Map<string, Promise<void>>();
const keyOf = (ns: string, id: string) => `${ns}/${id}`;

/**
 * After `runtime create`: starts moving the links CNI made into the sandbox's namespace
 * (containerd's path names it once done); the record's path, or undefined when nothing
 * is to be adopted. sandboxNetworkReady tells how it ended.
 */
export function adoptSandboxNetwork(paths: InstancePaths, ns: string, id: string, plan: Plan, hostPid: number, snapshot?: Promise<NetnsSnapshot>): string | undefined {
  if (!plan.newPodNetwork || !plan.containerdNetns) return undefined;
  if (!(hostPid > 0)) throw new NetError('VNODE_NET_NOT_NETNS', `sandbox ${id}: its first process has no host PID, so its network namespace cannot adopt the pod network`);
  const recordPath = adoptionRecordPath(paths, ns, id);
  const key = keyOf(ns, id);
  const p = adoptPodNetwork({ sandboxId: id, containerdNetns: plan.containerdNetns, targetPid: hostPid, recordPath, snapshot }).then(() => {
    if (adopting.get(key) === p) adopting.delete(key);
  });
  p.catch(() => undefined); // taken by sandboxNetworkReady or settleSandboxNetwork
  adopting.set(key, p);
  return recordPath;
}

/**
 * A sandbox's start: its pod network is in place. Waits for an adoption under way and
 * throws its error; without one, the record must say adopted (a manager that restarted
 * in the middle of the move has moved the links back).
 */
export async function sandboxNetworkReady(ns: string, id: string, recordPath: string | undefined): Promise<void> {
  const key = keyOf(ns, id);
  const p = adopting.get(key);
  if (p) {
    try {
      return await p;
    } finally {
      adopting.delete(key);
    }
  }
  if (!recordPath) return;
  if (readAdoptionRecord(recordPath)?.phase !== 'adopted') {
    throw new NetError('VNODE_NET_MOVE', `sandbox ${id}: its pod network was not adopted (the manager restarted while its links moved, and moved them back)`);
  }
}

/** A failed create or a delete: waits until no adoption of the sandbox is under way, whatever its outcome. */
export async function settleSandboxNetwork(ns: string, id: string): Promise<void> {
  const key = keyOf(ns, id);
  await adopting.get(key)?.catch(() => undefined);
  adopting.delete(key);
}

export function forgetSandboxNetwork(paths: InstancePaths, ns: string, id: string): void {
  removeAdoptionRecord(adoptionRecordPath(paths, ns, id));
}

/**
 * Manager start: adoptions a killed manager left half done are finished or undone,
 * records of sandboxes that are gone are dropped, vNode attachments whose vNode record
 * is gone are detached, and vnode-cni markers whose netns is gone are removed.
 */
export async function recoverNetworks(paths: InstancePaths, o: NetworkOptions, isTask: (ns: string, id: string) => boolean, log: Logger): Promise<void> {
  const root = join(paths.state, 'net');
  for (const ns of safeList(root)) {
    for (const f of safeList(join(root, ns)).filter((n) => n.endsWith('.json'))) {
      const id = f.slice(0, -'.json'.length);
      const path = join(root, ns, f);
      try {
        if (!isTask(ns, id)) removeAdoptionRecord(path);
        else await recoverAdoption(path);
      } catch (e) {
        log.warn({ task: id, err: e }, `pod network of ${ns}/${id}: ${(e as Error).message}`);
      }
    }
  }
  for (const name of safeList(paths.vnodes)) {
    if (existsSync(join(paths.state, 'vnodes', `${name}.json`))) continue;
    const dir = join(paths.vnodes, name, 'net');
    if (!existsSync(join(dir, 'cni.json'))) continue;
    await detachVnodeNetwork(dir).catch((e: Error) => log.warn({ vnode: name, err: e }, `network of removed vNode ${name}: ${e.message}`));
  }
  sweepCniMarkers(o.markerDir ?? cniMarkerDir());
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
