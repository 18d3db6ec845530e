// Reading what a network namespace holds, in-process: links, addresses and routes of
// every table from rtnetlink dumps on a socket bound to that namespace, and the
// per-interface sysctls from its /proc/sys/net. No process is started.
import { NetError } from './errors.js';
import { readConfSysctls } from './conf-sysctls.js';
import { Rtnl } from './rtnl/client.js';
import { decodeAddr, decodeLink, decodeRoute, dumpAddrs, dumpLinks, dumpRoutes } from './rtnl/messages.js';
import { addrStates, differingSysctls, linkStates, routeStates, type NetnsSnapshot } from './snapshot.js';

/** Links, addresses, routes and per-interface sysctls of the namespace at `netns`. */
export function captureNetnsSync(netns: string): NetnsSnapshot {
  let nl: Rtnl | undefined;
  try {
    nl = Rtnl.open(netns);
    const links = linkStates(nl.dump(dumpLinks).map((m) => decodeLink(m.body)));
    const addrs = addrStates(nl.dump(dumpAddrs).map((m) => decodeAddr(m.body)), links);
    const routes = routeStates(nl.dump(dumpRoutes).map((m) => decodeRoute(m.body)), links);
    const names = links.filter((l) => l.name !== 'lo').map((l) => l.name);
    return { links, addrs, routes, sysctls: differingSysctls(readConfSysctls(netns, names), names) };
  } catch (e) {
    throw new NetError('VNODE_NET_CAPTURE', `cannot read the state of network namespace ${netns}: ${(e as Error).message}`);
  } finally {
    nl?.close();
  }
}

/** captureNetnsSync, as the promise the callers await. */
export async function captureNetns(netns: string): Promise<NetnsSnapshot> {
  return captureNetnsSync(netns);
}
