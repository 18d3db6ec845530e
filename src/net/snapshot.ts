// What a network namespace holds that a moved link loses: the link's MTU and state,
// its addresses, the routes through it and its per-interface sysctls. Moving a link
// to another namespace (RTM_NEWLINK with IFLA_NET_NS_*) keeps its name, MAC, MTU and
// veth peer, but the kernel unregisters it first, which drops every address, every
// route through it and resets net.ipv{4,6}.conf.<if>.* to the new namespace's
// defaults. Pure: picks what to keep from rtnetlink's dumps (rtnl/messages.ts), in the
// words `ip` uses (so records stay readable), and orders the steps that restore it.
import { formatPrefix } from './rtnl/addr-text.js';
import {
  familyOf, IFA_F_NOPREFIXROUTE, RT_TABLE_LOCAL, RT_TABLE_MAIN, RTN_UNICAST, RTNH_F_ONLINK, RTPROT_BOOT, RTPROT_KERNEL, type RawAddr, type RawLink, type RawRoute,
} from './rtnl/messages.js';

const IFF_UP = 0x1;

export interface LinkState {
  name: string;
  ifindex: number;
  mtu: number;
  up: boolean;
  mac?: string;
  kind?: string;
}

export interface AddrState {
  dev: string;
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope?: string;
  broadcast?: string;
  noprefixroute?: boolean;
}

export interface RouteState {
  family: 'inet' | 'inet6';
  dst: string;
  dev: string;
  gateway?: string;
  prefsrc?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  table?: string;
  onlink?: boolean;
}

export interface NetnsSnapshot {
  links: LinkState[];
  addrs: AddrState[];
  routes: RouteState[];
  /** "ipv4/conf/eth0/arp_notify" → "1": per-interface values that differ from the namespace's conf/default. */
  sysctls: Record<string, string>;
}

/** rtnetlink's scope numbers and iproute2's names for them (rt_scopes). */
const SCOPES: Record<number, string> = { 0: 'global', 200: 'site', 253: 'link', 254: 'host', 255: 'nowhere' };
/** rtnetlink's route protocols and iproute2's names for them (rt_protos). */
const PROTOCOLS: Record<number, string> = {
  0: 'unspec', 1: 'redirect', 2: 'kernel', 3: 'boot', 4: 'static', 9: 'ra', 11: 'zebra', 12: 'bird', 16: 'dhcp', 18: 'keepalived',
  42: 'babel', 186: 'bgp', 187: 'isis', 188: 'ospf', 189: 'rip', 192: 'eigrp',
};
const TABLES: Record<number, string> = { 253: 'default', 254: 'main', 255: 'local' };

const nameOf = (names: Record<number, string>, n: number) => names[n] ?? String(n);
function numberOf(names: Record<number, string>, s: string, what: string): number {
  for (const [k, v] of Object.entries(names)) if (v === s) return Number(k);
  const n = Number(s);
  if (!/^\d+$/.test(s) || !Number.isSafeInteger(n)) throw new Error(`unknown ${what} ${JSON.stringify(s)}`);
  return n;
}
export const scopeName = (n: number) => nameOf(SCOPES, n);
export const scopeNumber = (s: string | undefined) => (s === undefined ? 0 : numberOf(SCOPES, s, 'scope'));
export const protocolNumber = (s: string | undefined) => (s === undefined ? RTPROT_BOOT : numberOf(PROTOCOLS, s, 'route protocol'));
export const tableNumber = (s: string | undefined) => (s === undefined ? RT_TABLE_MAIN : numberOf(TABLES, s, 'routing table'));

export function linkStates(raw: RawLink[]): LinkState[] {
  return raw.map((l) => ({
    name: l.name,
    ifindex: l.index,
    mtu: l.mtu,
    up: (l.flags & IFF_UP) !== 0,
    ...(l.mac !== undefined ? { mac: l.mac } : {}),
    ...(l.kind !== undefined ? { kind: l.kind } : {}),
  }));
}

const SCOPE_LINK = 253;
const SCOPE_HOST = 254;

/** Addresses worth re-applying: not loopback's, not the IPv6 link-local ones the kernel makes itself. */
export function addrStates(raw: RawAddr[], links: LinkState[]): AddrState[] {
  const dev = new Map(links.map((l) => [l.ifindex, l.name]));
  const out: AddrState[] = [];
  for (const a of raw) {
    const family = familyOf(a.family);
    const name = dev.get(a.index);
    if (!family || !name || a.local === undefined) continue;
    if (a.scope === SCOPE_HOST) continue; // 127.0.0.1, ::1
    if (family === 'inet6' && a.scope === SCOPE_LINK) continue; // fe80::/64 from the MAC, made again on up
    out.push({
      dev: name,
      family,
      local: a.local,
      prefixlen: a.prefixlen,
      ...(a.scope !== 0 ? { scope: scopeName(a.scope) } : {}),
      ...(a.broadcast !== undefined ? { broadcast: a.broadcast } : {}),
      ...(a.flags & IFA_F_NOPREFIXROUTE ? { noprefixroute: true } : {}),
    });
  }
  return out;
}

/**
 * Routes worth re-applying: the ones someone added (a CNI plugin, an admin). The kernel's
 * own (protocol kernel: the prefix route of an address, local/broadcast/multicast
 * entries of the local table) come back by themselves with the addresses.
 */
export function routeStates(raw: RawRoute[], links: LinkState[]): RouteState[] {
  const dev = new Map(links.map((l) => [l.ifindex, l.name]));
  const out: RouteState[] = [];
  for (const r of raw) {
    const family = familyOf(r.family);
    if (!family || r.type !== RTN_UNICAST) continue;
    if (r.protocol === RTPROT_KERNEL || r.table === RT_TABLE_LOCAL) continue;
    const name = r.oif !== undefined ? dev.get(r.oif) : undefined;
    if (r.multipath || !name) continue; // multipath/blackhole: not tied to one link
    out.push({
      family,
      dst: formatPrefix(r.dst, r.dstLen, family),
      dev: name,
      ...(r.gateway !== undefined ? { gateway: r.gateway } : {}),
      ...(r.prefsrc !== undefined ? { prefsrc: r.prefsrc } : {}),
      // `ip` leaves out the protocol of routes added without one (boot), and so does this
      ...(r.protocol !== RTPROT_BOOT ? { protocol: nameOf(PROTOCOLS, r.protocol) } : {}),
      ...(r.scope !== 0 ? { scope: scopeName(r.scope) } : {}),
      ...(r.priority !== undefined ? { metric: r.priority } : {}),
      ...(r.table !== RT_TABLE_MAIN ? { table: nameOf(TABLES, r.table) } : {}),
      ...(r.flags & RTNH_F_ONLINK ? { onlink: true } : {}),
    });
  }
  return out;
}

/**
 * Values of /proc/sys/net/ipv{4,6}/conf/<dev>/<name> ("ipv4/conf/eth0/arp_notify" → "1")
 * → the per-interface values of `links` that differ from conf/default (what a plugin set
 * on purpose, e.g. the bridge plugin's arp_notify=1).
 */
export function differingSysctls(values: Map<string, string>, links: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of values) {
    const [fam, , dev, name] = key.split('/');
    if (!dev || !links.includes(dev) || !name) continue;
    const dflt = values.get(`${fam}/conf/default/${name}`);
    if (dflt !== undefined && dflt !== value) out[key] = value;
  }
  return out;
}

/** One step of giving moved links their configuration back, in the order they run. */
export type RestoreStep = { op: 'link'; dev: string; mtu?: number; up: boolean } | { op: 'addr'; addr: AddrState } | { op: 'route'; route: RouteState };

/** The steps that give `links`, once moved, their MTU, state, addresses and routes back (lo comes up first). */
export function restoreSteps(snap: NetnsSnapshot, links: string[]): RestoreStep[] {
  const moved = new Set(links);
  const steps: RestoreStep[] = [{ op: 'link', dev: 'lo', up: true }];
  for (const l of snap.links) if (moved.has(l.name)) steps.push({ op: 'link', dev: l.name, mtu: l.mtu, up: l.up });
  for (const a of snap.addrs) if (moved.has(a.dev)) steps.push({ op: 'addr', addr: a });
  // link-scope routes first: a gateway must be reachable when its route is added
  const routes = snap.routes.filter((r) => moved.has(r.dev));
  const order = (r: RouteState) => (r.gateway ? 1 : 0);
  for (const r of [...routes].sort((a, b) => order(a) - order(b))) steps.push({ op: 'route', route: r });
  return steps;
}

/** A step as the `ip` command that does the same (for messages and logs). */
export function describeStep(s: RestoreStep): string {
  if (s.op === 'link') return `link set dev ${s.dev}${s.mtu !== undefined ? ` mtu ${s.mtu}` : ''}${s.up ? ' up' : ''}`;
  if (s.op === 'addr') {
    const a = s.addr;
    let line = `address replace ${a.local}/${a.prefixlen} dev ${a.dev}`;
    if (a.broadcast) line += ` broadcast ${a.broadcast}`;
    if (a.scope) line += ` scope ${a.scope}`;
    if (a.noprefixroute) line += ' noprefixroute';
    // the address passed duplicate detection where it was; doing it again only delays traffic
    if (a.family === 'inet6') line += ' nodad';
    return line;
  }
  const r = s.route;
  const dst = r.family === 'inet6' && r.dst === 'default' ? '::/0' : r.dst;
  let line = `route replace ${dst}`;
  if (r.gateway) line += ` via ${r.gateway}`;
  line += ` dev ${r.dev}`;
  if (r.prefsrc) line += ` src ${r.prefsrc}`;
  if (r.protocol) line += ` proto ${r.protocol}`;
  if (r.scope) line += ` scope ${r.scope}`;
  if (r.metric !== undefined) line += ` metric ${r.metric}`;
  if (r.table) line += ` table ${r.table}`;
  if (r.onlink) line += ' onlink';
  return line;
}

/** The restore steps as `ip -batch` lines. */
export function restoreCommands(snap: NetnsSnapshot, links: string[]): string[] {
  return restoreSteps(snap, links).map(describeStep);
}

/** Interface names the kernel accepts and that are safe as words of a message. */
export function isPlainIfName(name: string): boolean {
  return /^[A-Za-z0-9_.@-]{1,15}$/.test(name) && name !== '.' && name !== '..';
}
