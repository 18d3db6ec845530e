// Capturing what a network namespace holds and moving links from one namespace to
// another with their configuration re-applied (see snapshot.ts for what a move drops).
import { NetError } from './errors.js';
import { shInNetns } from './ns-exec.js';
import { isPlainIfName, parseAddrs, parseConfSysctls, parseLinks, parseRoutes, restoreCommands, type NetnsSnapshot } from './snapshot.js';

const SEP = '@@vnode-net@@';

/** Links, addresses, routes and per-interface sysctls of the namespace at `netns` (one exec). */
export async function captureNetns(netns: string): Promise<NetnsSnapshot> {
  const script = [
    'ip -j -d link show',
    `echo ${SEP}`,
    'ip -j address show',
    `echo ${SEP}`,
    'ip -j -4 route show table all',
    `echo ${SEP}`,
    'ip -j -6 route show table all 2>/dev/null',
    `echo ${SEP}`,
    // per-interface values; unreadable ones (stable_secret) are skipped
    'grep -r . /proc/sys/net/ipv4/conf /proc/sys/net/ipv6/conf 2>/dev/null',
    'true',
  ].join('\n');
  const out = await shInNetns(netns, script, [], 'VNODE_NET_CAPTURE');
  const [links = '', addrs = '', r4 = '', r6 = '', conf = ''] = out.split(`${SEP}\n`);
  try {
    const parsedLinks = parseLinks(links);
    const names = parsedLinks.filter((l) => l.name !== 'lo').map((l) => l.name);
    return {
      links: parsedLinks,
      addrs: parseAddrs(addrs),
      routes: [...parseRoutes(r4, 'inet'), ...parseRoutes(r6, 'inet6')],
      sysctls: parseConfSysctls(conf, names),
    };
  } catch (e) {
    throw new NetError('VNODE_NET_CAPTURE', `cannot read the state of network namespace ${netns}: ${(e as Error).message}`);
  }
}

// Runs in the target namespace: each link is moved by a child that joins the source
// namespace and names this shell ($$) as the destination, then the configuration is
// re-applied here. Arguments: <source> <link>... -- <sysctl key> <value> ...
const MOVE_SCRIPT = `set -e
from=$1; shift
while [ "$1" != -- ]; do nsenter --net="$from" ip link set dev "$1" netns $$; shift; done
shift
ip -batch -
while [ $# -gt 1 ]; do
  printf '%s\\n' "$2" > "/proc/sys/net/$1" 2>/dev/null || echo "vnode-net: sysctl $1 not restored" >&2
  shift 2
done`;

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

/** Moves `links` from one namespace to another and re-applies MTU, state, addresses, routes and sysctls (one exec). */
export async function moveLinks(i: MoveInput): Promise<void> {
  for (const l of i.links) {
    if (l === 'lo') throw new NetError('VNODE_NET_MOVE', 'the loopback interface cannot be moved');
    if (!isPlainIfName(l)) throw new NetError('VNODE_NET_MOVE', `interface name ${JSON.stringify(l)} is not one vnode moves`);
    if (!i.snapshot.links.some((s) => s.name === l)) throw new NetError('VNODE_NET_MOVE', `interface ${l} is not in network namespace ${i.from}`);
  }
  const sysctls = Object.entries(i.snapshot.sysctls).filter(([k]) => i.links.includes(k.split('/')[2] ?? ''));
  const batch = restoreCommands(i.snapshot, i.links).join('\n') + '\n';
  await shInNetns(i.to, MOVE_SCRIPT, [i.from, ...i.links, '--', ...sysctls.flat()], 'VNODE_NET_MOVE', batch);
}
