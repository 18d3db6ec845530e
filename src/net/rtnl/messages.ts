// rtnetlink messages (include/uapi/linux/rtnetlink.h, if_link.h, if_addr.h): the
// requests vnode sends (dumps of links, addresses and routes; a link by name; moving
// a link to another namespace; MTU and up; an address; a route) and the decoding of
// the kernel's RTM_NEWLINK / RTM_NEWADDR / RTM_NEWROUTE into plain records. Pure.
import { formatIp, formatMac, parseIp } from './addr-text.js';
import { cstring, cstringOf, decodeAttrs, encodeMessage, u32, type Attr, NLM_F_ACK, NLM_F_CREATE, NLM_F_DUMP, NLM_F_REPLACE, NLM_F_REQUEST } from './wire.js';

export const RTM_NEWLINK = 16;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_GETROUTE = 26;

const AF_UNSPEC = 0;
const AF_INET = 2;
const AF_INET6 = 10;

const IFF_UP = 0x1;
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_MTU = 4;
const IFLA_LINKINFO = 18;
const IFLA_INFO_KIND = 1;
const IFLA_NET_NS_FD = 28;

const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const IFA_BROADCAST = 4;
const IFA_FLAGS = 8;
export const IFA_F_NODAD = 0x02;
export const IFA_F_NOPREFIXROUTE = 0x200;

const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_PRIORITY = 6;
const RTA_PREFSRC = 7;
const RTA_MULTIPATH = 9;
const RTA_TABLE = 15;
export const RTN_UNICAST = 1;
export const RTNH_F_ONLINK = 0x4;
export const RTPROT_KERNEL = 2;
export const RTPROT_BOOT = 3;
export const RT_TABLE_MAIN = 254;
export const RT_TABLE_LOCAL = 255;

export type Family = 'inet' | 'inet6';
const afOf = (f: Family) => (f === 'inet' ? AF_INET : AF_INET6);
export const familyOf = (af: number): Family | undefined => (af === AF_INET ? 'inet' : af === AF_INET6 ? 'inet6' : undefined);

export interface RawLink {
  index: number;
  name: string;
  flags: number;
  mtu: number;
  mac?: string;
  kind?: string;
}

export interface RawAddr {
  family: number;
  index: number;
  prefixlen: number;
  /** ifa_flags widened by IFA_FLAGS. */
  flags: number;
  scope: number;
  local?: string;
  broadcast?: string;
}

export interface RawRoute {
  family: number;
  dstLen: number;
  table: number;
  protocol: number;
  scope: number;
  type: number;
  flags: number;
  dst?: string;
  gateway?: string;
  oif?: number;
  prefsrc?: string;
  priority?: number;
  multipath: boolean;
}

function ifinfomsg(index = 0, flags = 0, change = 0): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt8(AF_UNSPEC, 0);
  b.writeInt32LE(index, 4);
  b.writeUInt32LE(flags, 8);
  b.writeUInt32LE(change, 12);
  return b;
}

function ifaddrmsg(family: number, prefixlen = 0, flags = 0, scope = 0, index = 0): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefixlen, 1);
  b.writeUInt8(flags & 0xff, 2);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(index, 4);
  return b;
}

interface RtmsgFields {
  family: number;
  dstLen?: number;
  table?: number;
  protocol?: number;
  scope?: number;
  type?: number;
  flags?: number;
}

function rtmsg(r: RtmsgFields): Buffer {
  const b = Buffer.alloc(12);
  b.writeUInt8(r.family, 0);
  b.writeUInt8(r.dstLen ?? 0, 1);
  b.writeUInt8(r.table ?? 0, 4);
  b.writeUInt8(r.protocol ?? 0, 5);
  b.writeUInt8(r.scope ?? 0, 6);
  b.writeUInt8(r.type ?? 0, 7);
  b.writeUInt32LE(r.flags ?? 0, 8);
  return b;
}

const DUMP = NLM_F_REQUEST | NLM_F_DUMP;
const DO = NLM_F_REQUEST | NLM_F_ACK;
const PUT = DO | NLM_F_CREATE | NLM_F_REPLACE;

export const dumpLinks = (seq: number) => encodeMessage(RTM_GETLINK, DUMP, seq, ifinfomsg());
export const dumpAddrs = (seq: number) => encodeMessage(RTM_GETADDR, DUMP, seq, ifaddrmsg(AF_UNSPEC));
/** Routes of every family and table. */
export const dumpRoutes = (seq: number) => encodeMessage(RTM_GETROUTE, DUMP, seq, rtmsg({ family: AF_UNSPEC }));

export const getLinkByName = (seq: number, name: string) => encodeMessage(RTM_GETLINK, DO, seq, ifinfomsg(), [[IFLA_IFNAME, cstring(name)]]);

/** Moves link `index` into the namespace open at descriptor `nsFd` (it keeps name, MAC, MTU and peer). */
export const moveLink = (seq: number, index: number, nsFd: number) => encodeMessage(RTM_NEWLINK, DO, seq, ifinfomsg(index), [[IFLA_NET_NS_FD, u32(nsFd)]]);

/** MTU (when given) and, when `up`, IFF_UP; a link that is not to be up is left as it is. */
export function setLink(seq: number, index: number, mtu: number | undefined, up: boolean): Buffer {
  const attrs: Attr[] = mtu !== undefined ? [[IFLA_MTU, u32(mtu)]] : [];
  return encodeMessage(RTM_NEWLINK, DO, seq, ifinfomsg(index, up ? IFF_UP : 0, up ? IFF_UP : 0), attrs);
}

export interface AddrRequest {
  family: Family;
  index: number;
  local: string;
  prefixlen: number;
  flags: number;
  scope: number;
  broadcast?: string;
}

/** `ip address replace`. */
export function putAddr(seq: number, a: AddrRequest): Buffer {
  const local = parseIp(a.local, a.family);
  const attrs: Attr[] = [
    [IFA_LOCAL, local],
    [IFA_ADDRESS, local],
  ];
  if (a.broadcast) attrs.push([IFA_BROADCAST, parseIp(a.broadcast, 'inet')]);
  attrs.push([IFA_FLAGS, u32(a.flags)]);
  return encodeMessage(RTM_NEWADDR, PUT, seq, ifaddrmsg(afOf(a.family), a.prefixlen, a.flags, a.scope, a.index), attrs);
}

export interface RouteRequest {
  family: Family;
  dst?: Buffer;
  dstLen: number;
  table: number;
  protocol: number;
  scope: number;
  flags: number;
  oif: number;
  gateway?: string;
  prefsrc?: string;
  priority?: number;
}

/** `ip route replace`: a unicast route. */
export function putRoute(seq: number, r: RouteRequest): Buffer {
  const attrs: Attr[] = [[RTA_TABLE, u32(r.table)]];
  if (r.dst && r.dstLen > 0) attrs.push([RTA_DST, r.dst]);
  if (r.gateway) attrs.push([RTA_GATEWAY, parseIp(r.gateway, r.family)]);
  attrs.push([RTA_OIF, u32(r.oif)]);
  if (r.prefsrc) attrs.push([RTA_PREFSRC, parseIp(r.prefsrc, r.family)]);
  if (r.priority !== undefined) attrs.push([RTA_PRIORITY, u32(r.priority)]);
  // tables past 255 only fit RTA_TABLE; rtm_table then says RT_TABLE_UNSPEC
  const header = rtmsg({ family: afOf(r.family), dstLen: r.dstLen, table: r.table < 256 ? r.table : 0, protocol: r.protocol, scope: r.scope, type: RTN_UNICAST, flags: r.flags });
  return encodeMessage(RTM_NEWROUTE, PUT, seq, header, attrs);
}

export function decodeLink(body: Buffer): RawLink {
  const a = decodeAttrs(body.subarray(16));
  const info = a.get(IFLA_LINKINFO);
  const kind = info ? decodeAttrs(info).get(IFLA_INFO_KIND) : undefined;
  const mac = a.get(IFLA_ADDRESS);
  const mtu = a.get(IFLA_MTU);
  return {
    index: body.readInt32LE(4),
    name: cstringOf(a.get(IFLA_IFNAME) ?? Buffer.alloc(0)),
    flags: body.readUInt32LE(8),
    mtu: mtu ? mtu.readUInt32LE(0) : 0,
    ...(mac ? { mac: formatMac(mac) } : {}),
    ...(kind ? { kind: cstringOf(kind) } : {}),
  };
}

export function decodeAddr(body: Buffer): RawAddr {
  const a = decodeAttrs(body.subarray(8));
  const local = a.get(IFA_LOCAL) ?? a.get(IFA_ADDRESS);
  const wide = a.get(IFA_FLAGS);
  const bcast = a.get(IFA_BROADCAST);
  return {
    family: body.readUInt8(0),
    prefixlen: body.readUInt8(1),
    flags: wide ? wide.readUInt32LE(0) : body.readUInt8(2),
    scope: body.readUInt8(3),
    index: body.readUInt32LE(4),
    ...(local ? { local: formatIp(local) } : {}),
    ...(bcast ? { broadcast: formatIp(bcast) } : {}),
  };
}

export function decodeRoute(body: Buffer): RawRoute {
  const a = decodeAttrs(body.subarray(12));
  const ip = (t: number) => {
    const v = a.get(t);
    return v ? formatIp(v) : undefined;
  };
  const u = (t: number) => a.get(t)?.readUInt32LE(0);
  const table = u(RTA_TABLE) ?? body.readUInt8(4);
  const r: RawRoute = {
    family: body.readUInt8(0),
    dstLen: body.readUInt8(1),
    table,
    protocol: body.readUInt8(5),
    scope: body.readUInt8(6),
    type: body.readUInt8(7),
    flags: body.readUInt32LE(8),
    multipath: a.has(RTA_MULTIPATH),
  };
  const dst = ip(RTA_DST);
  const gateway = ip(RTA_GATEWAY);
  const prefsrc = ip(RTA_PREFSRC);
  const oif = u(RTA_OIF);
  const priority = u(RTA_PRIORITY);
  if (dst !== undefined) r.dst = dst;
  if (gateway !== undefined) r.gateway = gateway;
  if (prefsrc !== undefined) r.prefsrc = prefsrc;
  if (oif !== undefined) r.oif = oif;
  if (priority !== undefined) r.priority = priority;
  return r;
}
