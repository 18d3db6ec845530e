// Moving links from one network namespace to another with their configuration
// re-applied (see snapshot.ts for what a move drops), in-process over rtnetlink: a
// socket bound to each namespace, RTM_NEWLINK with IFLA_NET_NS_FD to move, then the
// restore steps as RTM_NEWLINK / RTM_NEWADDR / RTM_NEWROUTE in the destination.
import { closeSync, openSync } from 'node:fs';
import { NetError } from './errors.js';
import { writeConfSysctls } from './conf-sysctls.js';
import { parsePrefix } from './rtnl/addr-text.js';
import { Rtnl } from './rtnl/client.js';
import { decodeLink, getLinkByName, IFA_F_NODAD, IFA_F_NOPREFIXROUTE, moveLink, putAddr, putRoute, RTNH_F_ONLINK, setLink } from './rtnl/messages.js';
import { describeStep, isPlainIfName, protocolNumber, restoreSteps, scopeNumber, tableNumber, type NetnsSnapshot, type RestoreStep } from './snapshot.js';

export interface MoveInput {
  /** Namespace file the links are in now. */
  from: string;
  /** Namespace file they go to: /proc/<pid>/ns/net or a bind mount of one. */
  to: string;
  /** Names of the links to move (not lo). */
  links: string[];
  /** The source's state before the move (captureNetns). */
  snapshot: NetnsSnapshot;
}

function indexOf(nl: Rtnl, name: string): number {
  const m = nl.request((seq) => getLinkByName(seq, name))[0];
  if (!m) throw new Error(`no answer for interface ${name}`);
  return decodeLink(m.body).index;
}

function apply(nl: Rtnl, step: RestoreStep, index: (dev: string) => number): void {
  if (step.op === 'link') {
    const i = index(step.dev);
    nl.request((seq) => setLink(seq, i, step.mtu, step.up));
  } else if (step.op === 'addr') {
    const a = step.addr;
    const flags = (a.family === 'inet6' ? IFA_F_NODAD : 0) | (a.noprefixroute ? IFA_F_NOPREFIXROUTE : 0);
    const req = { family: a.family, index: index(a.dev), local: a.local, prefixlen: a.prefixlen, flags, scope: scopeNumber(a.scope), ...(a.broadcast ? { broadcast: a.broadcast } : {}) };
    nl.request((seq) => putAddr(seq, req));
  } else {
    const r = step.route;
    const { addr, len } = parsePrefix(r.dst, r.family);
    const req = {
      family: r.family,
      ...(addr ? { dst: addr } : {}),
      dstLen: len,
      table: tableNumber(r.table),
      protocol: protocolNumber(r.protocol),
      scope: scopeNumber(r.scope),
      flags: r.onlink ? RTNH_F_ONLINK : 0,
      oif: index(r.dev),
      ...(r.gateway ? { gateway: r.gateway } : {}),
      ...(r.prefsrc ? { prefsrc: r.prefsrc } : {}),
      ...(r.metric !== undefined ? { priority: r.metric } : {}),
    };
    nl.request((seq) => putRoute(seq, req));
  }
}

/** Moves `links` from one namespace to another and re-applies MTU, state, addresses, routes and sysctls. */
export async function moveLinks(i: MoveInput): Promise<void> {
  for (const l of i.links) {
    if (l === 'lo') throw new NetError('VNODE_NET_MOVE', 'the loopback interface cannot be moved');
    if (!isPlainIfName(l)) throw new NetError('VNODE_NET_MOVE', `interface name ${JSON.stringify(l)} is not one vnode moves`);
    if (!i.snapshot.links.some((s) => s.name === l)) throw new NetError('VNODE_NET_MOVE', `interface ${l} is not in network namespace ${i.from}`);
  }
  let src: Rtnl | undefined;
  let dst: Rtnl | undefined;
  let toFd: number | undefined;
  let doing = '';
  try {
    doing = `open network namespace ${i.from}`;
    src = Rtnl.open(i.from);
    doing = `open network namespace ${i.to}`;
    dst = Rtnl.open(i.to);
    toFd = openSync(i.to, 'r');
    for (const l of i.links) {
      doing = `move ${l} from ${i.from} to ${i.to}`;
      const index = indexOf(src, l);
      const fd = toFd;
      await src.requestSlow((seq) => moveLink(seq, index, fd));
    }
    const there = new Map<string, number>();
    const index = (dev: string) => {
      let n = there.get(dev);
      if (n === undefined) there.set(dev, (n = indexOf(dst!, dev)));
      return n;
    };
    for (const step of restoreSteps(i.snapshot, i.links)) {
      doing = `${describeStep(step)} in ${i.to}`;
      apply(dst, step, index);
    }
  } catch (e) {
    if (e instanceof NetError) throw e;
    throw new NetError('VNODE_NET_MOVE', `in network namespace ${i.to}: ${doing}: ${(e as Error).message}`);
  } finally {
    src?.close();
    dst?.close();
    if (toFd !== undefined) closeSync(toFd);
  }
  // a value the destination refuses (a knob its kernel lacks) does not undo the move
  const sysctls = Object.entries(i.snapshot.sysctls).filter(([k]) => i.links.includes(k.split('/')[2] ?? ''));
  try {
    writeConfSysctls(i.to, sysctls);
  } catch (e) {
    throw new NetError('VNODE_NET_MOVE', `in network namespace ${i.to}: restoring sysctls: ${(e as Error).message}`);
  }
}
