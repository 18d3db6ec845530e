// A pod's CNI network, adopted by a network namespace its vNode owns.
//
// containerd makes the sandbox's network namespace (owned by the host's user
// namespace) and runs CNI ADD in it before the sandbox task exists. The OCI runtime
// then gives the sandbox a fresh namespace inside the vNode's user namespace (the
// planner's newPodNetwork). Adoption, between the runtime's create and the sandbox's
// start: the links CNI made move into that namespace with their configuration, and
// containerd's mount at its netns path is replaced by a bind mount of the new
// namespace. containerd keeps using its path for everything (CNI DEL, PortForward,
// PodSandboxStatus's check, netns removal) and now reaches the vNode's namespace.
//
// Nothing here must outlive a crash: the bind mount at containerd's path is the only
// reference that keeps the new namespace once the pod's processes are gone, and
// containerd removes it (unmount + unlink) after CNI DEL. A record of each adoption is
// kept for CHECK and for a manager that restarts halfway through one.
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { mount, umount, MS_BIND, MNT_DETACH } from '../sys/index.js';
import { NetError } from './errors.js';
import { captureNetns } from './capture.js';
import { moveLinks } from './move.js';
import { isNetnsFile, netnsInode } from './netns-file.js';
import type { NetnsSnapshot } from './snapshot.js';

export interface AdoptionRecord {
  version: 1;
  sandboxId: string;
  /** containerd's netns path (the sandbox spec's network namespace path, CNI_NETNS). */
  containerdNetns: string;
  /** Host PID of the sandbox's first process, in the namespace the links went to. */
  targetPid: number;
  /** Inode of that namespace. */
  targetNetns: number;
  links: string[];
  snapshot: NetnsSnapshot;
  /** moving: links may be in either namespace; adopted: containerd's path names the new namespace. */
  phase: 'moving' | 'adopted';
}

export interface AdoptInput {
  sandboxId: string;
  containerdNetns: string;
  targetPid: number;
  /** Where the record is written (one file per sandbox). */
  recordPath: string;
  /**
   * captureNetns(containerdNetns), when the caller took it earlier: CNI ADD is done
   * before the sandbox's create arrives, so it can be read before the runtime's create.
   */
  snapshot?: Promise<NetnsSnapshot>;
}

function writeRecord(path: string, rec: AdoptionRecord): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(rec));
  renameSync(tmp, path);
}

export function readAdoptionRecord(path: string): AdoptionRecord | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const rec = JSON.parse(text) as AdoptionRecord;
    if (rec.version !== 1 || typeof rec.containerdNetns !== 'string') throw new Error('unknown layout');
    return rec;
  } catch (e) {
    throw new NetError('VNODE_NET_RECORD', `pod network record ${path} is unreadable: ${(e as Error).message}`);
  }
}

/** Points containerd's netns path at another namespace: its own mount goes (and with it that namespace), a bind of `source` takes its place. */
function replaceMount(path: string, source: string): void {
  try {
    umount(path, MNT_DETACH);
    mount(source, path, null, MS_BIND);
  } catch (e) {
    throw new NetError('VNODE_NET_MOUNT', `cannot bind network namespace ${source} over ${path}: ${(e as Error).message}`);
  }
}

/**
 * Moves the sandbox's CNI links into the namespace of `targetPid` and makes
 * containerd's netns path name that namespace. Idempotent. On failure before the
 * mount is replaced, the links go back where they were.
 */
export async function adoptPodNetwork(i: AdoptInput): Promise<AdoptionRecord> {
  const target = `/proc/${i.targetPid}/ns/net`;
  const targetIno = netnsInode(target);
  if (targetIno === undefined) throw new NetError('VNODE_NET_NOT_NETNS', `process ${i.targetPid} (the sandbox) has no network namespace to adopt the pod's network`);
  if (!isNetnsFile(i.containerdNetns)) {
    throw new NetError('VNODE_NET_NOT_NETNS', `${i.containerdNetns} (the sandbox's network namespace from containerd) is not a network namespace`);
  }
  if (netnsInode(i.containerdNetns) === targetIno) {
    const done = readAdoptionRecord(i.recordPath);
    if (done) return done;
  }
  const snapshot = await (i.snapshot ?? captureNetns(i.containerdNetns));
  const links = snapshot.links.filter((l) => l.name !== 'lo').map((l) => l.name);
  if (links.length === 0) {
    throw new NetError('VNODE_NET_NO_LINKS', `network namespace ${i.containerdNetns} has no interface but lo: the CNI chain gave sandbox ${i.sandboxId} no network`);
  }
  const rec: AdoptionRecord = { version: 1, sandboxId: i.sandboxId, containerdNetns: i.containerdNetns, targetPid: i.targetPid, targetNetns: targetIno, links, snapshot, phase: 'moving' };
  writeRecord(i.recordPath, rec);
  try {
    await moveLinks({ from: i.containerdNetns, to: target, links, snapshot });
    replaceMount(i.containerdNetns, target);
  } catch (e) {
    await returnLinks(rec).catch(() => undefined);
    rmSync(i.recordPath, { force: true });
    throw e;
  }
  rec.phase = 'adopted';
  writeRecord(i.recordPath, rec);
  return rec;
}

/**
 * Before containerd's mount is replaced: moves whatever of the record's links is in the
 * target namespace back to containerd's, configured as before, so that its CNI DEL
 * finds them (the bridge plugin takes the addresses it tears NAT down for from the link).
 */
async function returnLinks(rec: AdoptionRecord): Promise<void> {
  const target = `/proc/${rec.targetPid}/ns/net`;
  if (netnsInode(target) !== rec.targetNetns) return; // namespace gone, and its links with it
  if (netnsInode(rec.containerdNetns) === rec.targetNetns) return; // already adopted
  const there = await captureNetns(target);
  const links = rec.links.filter((l) => there.links.some((t) => t.name === l));
  if (links.length > 0) await moveLinks({ from: target, to: rec.containerdNetns, links, snapshot: rec.snapshot });
}

/**
 * For a manager that starts again: finishes the bookkeeping of an adoption it was in
 * the middle of. An adopted record stays; a half-done one is undone (the sandbox's
 * create failed with the manager, and containerd is tearing it down).
 */
export async function recoverAdoption(recordPath: string): Promise<AdoptionRecord | undefined> {
  const rec = readAdoptionRecord(recordPath);
  if (!rec || rec.phase === 'adopted') return rec;
  if (netnsInode(rec.containerdNetns) === rec.targetNetns) {
    rec.phase = 'adopted';
    writeRecord(recordPath, rec);
    return rec;
  }
  await returnLinks(rec);
  rmSync(recordPath, { force: true });
  return undefined;
}

/** CNI CHECK / status: what is wrong with an adopted pod network (empty when it is in place). */
export async function verifyPodNetwork(rec: AdoptionRecord): Promise<string[]> {
  const problems: string[] = [];
  if (netnsInode(rec.containerdNetns) !== rec.targetNetns) {
    return [`${rec.containerdNetns} no longer names the sandbox's network namespace`];
  }
  const now = await captureNetns(rec.containerdNetns);
  for (const l of rec.links) if (!now.links.some((n) => n.name === l)) problems.push(`interface ${l} is missing`);
  for (const a of rec.snapshot.addrs) {
    if (rec.links.includes(a.dev) && !now.addrs.some((n) => n.dev === a.dev && n.local === a.local && n.prefixlen === a.prefixlen)) {
      problems.push(`address ${a.local}/${a.prefixlen} is missing on ${a.dev}`);
    }
  }
  return problems;
}

/** Forgets a sandbox's record (after its removal; containerd's teardown undid the rest). */
export function removeAdoptionRecord(recordPath: string): void {
  rmSync(recordPath, { force: true });
}
