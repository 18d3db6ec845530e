// What a network namespace holds that a moved link loses: the link's MTU and state,
// its addresses, the routes through it and its per-interface sysctls. Moving a link
// to another namespace (RTM_NEWLINK with IFLA_NET_NS_*) keeps its name, MAC, MTU and
// veth peer, but the kernel unregisters it first, which drops every address, every
// route through it and resets net.ipv{4,6}.conf.<if>.* to the new namespace's
// defaults. Pure: parses `ip -j` output and turns it into `ip -batch` lines.

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

type Json = Record<string, unknown>;
const arr = (s: string): Json[] => (s.trim() ? (JSON.parse(s) as Json[]) : []);

export function parseLinks(json: string): LinkState[] {
  return arr(json).map((l) => {
    const flags = (l['flags'] as string[] | undefined) ?? [];
    const info = l['linkinfo'] as Json | undefined;
    return {
      name: String(l['ifname']),
      ifindex: Number(l['ifindex']),
      mtu: Number(l['mtu']),
      up: flags.includes('UP'),
      ...(typeof l['address'] === 'string' ? { mac: l['address'] } : {}),
      ...(info && typeof info['info_kind'] === 'string' ? { kind: info['info_kind'] } : {}),
    };
  });
}

/** Addresses worth re-applying: not loopback's, not the IPv6 link-local ones the kernel makes itself. */
export function parseAddrs(json: string): AddrState[] {
  const out: AddrState[] = [];
  for (const l of arr(json)) {
    for (const a of (l['addr_info'] as Json[] | undefined) ?? []) {
      const family = a['family'];
      if (family !== 'inet' && family !== 'inet6') continue;
      if (a['scope'] === 'host') continue; // 127.0.0.1, ::1
      if (family === 'inet6' && a['scope'] === 'link') continue; // fe80::/64 from the MAC, made again on up
      out.push({
        dev: String(l['ifname']),
        family,
        local: String(a['local']),
        prefixlen: Number(a['prefixlen']),
        ...(typeof a['scope'] === 'string' && a['scope'] !== 'global' ? { scope: a['scope'] } : {}),
        ...(typeof a['broadcast'] === 'string' ? { broadcast: a['broadcast'] } : {}),
        ...(a['noprefixroute'] ? { noprefixroute: true } : {}),
      });
    }
  }
  return out;
}

/**
 * Routes worth re-applying: the ones someone added (a CNI plugin, an admin). The kernel's
 * own (protocol kernel: the prefix route of an address, local/broadcast/multicast
 * entries of the local table) come back by themselves with the addresses.
 */
export function parseRoutes(json: string, family: 'inet' | 'inet6'): RouteState[] {
  const out: RouteState[] = [];
  for (const r of arr(json)) {
    const type = r['type'];
    if (type !== undefined && type !== 'unicast') continue;
    if (r['protocol'] === 'kernel' || r['table'] === 'local') continue;
    if (typeof r['dev'] !== 'string') continue; // multipath/blackhole: not tied to one link
    const flags = (r['flags'] as string[] | undefined) ?? [];
    out.push({
      family,
      dst: String(r['dst']),
      dev: r['dev'],
      ...(typeof r['gateway'] === 'string' ? { gateway: r['gateway'] } : {}),
      ...(typeof r['prefsrc'] === 'string' ? { prefsrc: r['prefsrc'] } : {}),
      ...(typeof r['protocol'] === 'string' ? { protocol: r['protocol'] } : {}),
      ...(typeof r['scope'] === 'string' && r['scope'] !== 'global' ? { scope: r['scope'] } : {}),
      ...(typeof r['metric'] === 'number' ? { metric: r['metric'] } : {}),
      ...(typeof r['table'] === 'string' && r['table'] !== 'main' ? { table: r['table'] } : {}),
      ...(flags.includes('onlink') ? { onlink: true } : {}),
    });
  }
  return out;
}

/**
 * `grep -r . /proc/sys/net/ipv4/conf /proc/sys/net/ipv6/conf` → the per-interface values
 * of `links` that differ from conf/default (what a plugin set on purpose, e.g. the
 * bridge plugin's arp_notify=1).
 */
export function parseConfSysctls(grepOutput: string, links: string[]): Record<string, string> {
  const values = new Map<string, string>();
  for (const line of grepOutput.split('\n')) {
    const m = /^\/proc\/sys\/net\/(ipv[46])\/conf\/([^/]+)\/([^:]+):(.*)$/.exec(line);
    if (m) values.set(`${m[1]}/conf/${m[2]}/${m[3]}`, m[4]!);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of values) {
    const [fam, , dev, name] = key.split('/');
    if (!dev || !links.includes(dev) || !name) continue;
    const dflt = values.get(`${fam}/conf/default/${name}`);
    if (dflt !== undefined && dflt !== value) out[key] = value;
  }
  return out;
}

/** The `ip -batch` lines that give `links`, once moved, their MTU, state, addresses and routes back. */
export function restoreCommands(snap: NetnsSnapshot, links: string[]): string[] {
  const moved = new Set(links);
  const lines: string[] = ['link set dev lo up'];
  for (const l of snap.links) if (moved.has(l.name)) lines.push(`link set dev ${l.name} mtu ${l.mtu}${l.up ? ' up' : ''}`);
  for (const a of snap.addrs) {
    if (!moved.has(a.dev)) continue;
    let line = `address replace ${a.local}/${a.prefixlen} dev ${a.dev}`;
    if (a.broadcast) line += ` broadcast ${a.broadcast}`;
    if (a.scope) line += ` scope ${a.scope}`;
    if (a.noprefixroute) line += ' noprefixroute';
    // the address passed duplicate detection where it was; doing it again only delays traffic
    if (a.family === 'inet6') line += ' nodad';
    lines.push(line);
  }
  // link-scope routes first: a gateway must be reachable when its route is added
  const routes = snap.routes.filter((r) => moved.has(r.dev));
  const order = (r: RouteState) => (r.gateway ? 1 : 0);
  for (const r of [...routes].sort((a, b) => order(a) - order(b))) {
    // batch lines take no -6: the family comes from the addresses, so the v6 default is ::/0
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
    lines.push(line);
  }
  return lines;
}

/** Interface names the kernel accepts and that are safe as words of an `ip -batch` line. */
export function isPlainIfName(name: string): boolean {
  return /^[A-Za-z0-9_.@-]{1,15}$/.test(name) && name !== '.' && name !== '..';
}
