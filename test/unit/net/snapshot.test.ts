// The pure half of moving a pod's links: what is kept from rtnetlink's dumps (the
// records rtnl/messages.ts decodes; the values are those of a bridge-plugin pod) and
// which steps, in which order, give a moved link its state back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RawAddr, RawLink, RawRoute } from '../../../src/net/rtnl/messages.js';
import { addrStates, differingSysctls, isPlainIfName, linkStates, restoreCommands, routeStates } from '../../../src/net/snapshot.js';

const IFF_UP = 1;
const RAW_LINKS: RawLink[] = [
  { index: 1, name: 'lo', flags: IFF_UP | 0x8, mtu: 65536, mac: '00:00:00:00:00:00' },
  { index: 2, name: 'eth0', flags: IFF_UP | 0x1002, mtu: 1400, mac: '46:02:7d:7d:c9:fe', kind: 'veth' },
  { index: 3, name: 'net1', flags: 0x1002, mtu: 1500, mac: '5a:98:91:fb:ba:ec', kind: 'veth' },
];
const AF_INET = 2;
const AF_INET6 = 10;
const PERMANENT = 0x80;
const NODAD = 0x02;
const RAW_ADDRS: RawAddr[] = [
  { family: AF_INET, index: 1, prefixlen: 8, flags: PERMANENT, scope: 254, local: '127.0.0.1' },
  { family: AF_INET, index: 2, prefixlen: 24, flags: PERMANENT, scope: 0, local: '10.250.7.2', broadcast: '10.250.7.255' },
  { family: AF_INET6, index: 1, prefixlen: 128, flags: PERMANENT, scope: 254, local: '::1' },
  { family: AF_INET6, index: 2, prefixlen: 64, flags: PERMANENT | NODAD, scope: 0, local: 'fd00::2' },
  { family: AF_INET6, index: 2, prefixlen: 64, flags: PERMANENT, scope: 253, local: 'fe80::4402:7dff:fe7d:c9fe' },
];
const route = (r: Partial<RawRoute>): RawRoute => ({ family: AF_INET, dstLen: 0, table: 254, protocol: 3, scope: 0, type: 1, flags: 0, multipath: false, ...r });
const RAW_ROUTES: RawRoute[] = [
  route({ gateway: '10.250.7.1', oif: 2 }),
  route({ dst: '10.8.0.0', dstLen: 16, gateway: '10.250.7.1', oif: 2, protocol: 4, priority: 5, flags: 0x4 }),
  route({ dst: '10.250.7.0', dstLen: 24, oif: 2, protocol: 2, scope: 253, prefsrc: '10.250.7.2' }),
  route({ dst: '10.99.0.0', dstLen: 24, oif: 2, table: 100, scope: 253 }),
  route({ dst: '10.250.7.2', dstLen: 32, oif: 2, table: 255, protocol: 2, scope: 254, type: 2, prefsrc: '10.250.7.2' }),
  route({ dst: '10.250.7.255', dstLen: 32, oif: 2, table: 255, protocol: 2, scope: 253, type: 3, prefsrc: '10.250.7.2' }),
  route({ dst: '10.7.0.0', dstLen: 16, multipath: true }),
  route({ dst: '10.6.0.0', dstLen: 16, type: 6 }),
  route({ family: AF_INET6, dst: 'fd00::', dstLen: 64, oif: 2, protocol: 2, priority: 256 }),
  route({ family: AF_INET6, gateway: 'fd00::1', oif: 2, priority: 1024 }),
  route({ family: AF_INET6, dst: 'fd00::2', dstLen: 128, oif: 2, table: 255, protocol: 2, type: 2, priority: 0 }),
  route({ family: AF_INET6, dst: 'ff00::', dstLen: 8, oif: 2, table: 255, protocol: 2, type: 5, priority: 256 }),
];

describe('pod network snapshot', () => {
  it('reads links with MTU, state and kind', () => {
    const links = linkStates(RAW_LINKS);
    assert.deepEqual(
      links.map((l) => [l.name, l.mtu, l.up, l.kind]),
      [
        ['lo', 65536, true, undefined],
        ['eth0', 1400, true, 'veth'],
        ['net1', 1500, false, 'veth'],
      ],
    );
  });

  it('keeps the addresses someone gave, not loopback or IPv6 link-local', () => {
    assert.deepEqual(addrStates(RAW_ADDRS, linkStates(RAW_LINKS)), [
      { dev: 'eth0', family: 'inet', local: '10.250.7.2', prefixlen: 24, broadcast: '10.250.7.255' },
      { dev: 'eth0', family: 'inet6', local: 'fd00::2', prefixlen: 64 },
    ]);
  });

  it('keeps added routes (any table) and drops the kernel-made ones', () => {
    const r = routeStates(RAW_ROUTES, linkStates(RAW_LINKS));
    assert.deepEqual(r.map((x) => [x.family, x.dst, x.gateway]), [
      ['inet', 'default', '10.250.7.1'],
      ['inet', '10.8.0.0/16', '10.250.7.1'],
      ['inet', '10.99.0.0/24', undefined],
      ['inet6', 'default', 'fd00::1'],
    ]);
    assert.deepEqual(r[1], { family: 'inet', dst: '10.8.0.0/16', dev: 'eth0', gateway: '10.250.7.1', protocol: 'static', metric: 5, onlink: true });
    assert.equal(r[2]!.table, '100');
    assert.equal(r[0]!.protocol, undefined, 'boot, the protocol of routes added without one, is left out as ip does');
    assert.equal(routeStates([route({ dst: '10.5.0.0', dstLen: 16, oif: 2, table: 1000 })], linkStates(RAW_LINKS))[0]!.table, '1000');
    assert.equal(routeStates([route({ dst: '10.5.0.1', dstLen: 32, oif: 2 })], linkStates(RAW_LINKS))[0]!.dst, '10.5.0.1', 'a host route as ip prints it');
    assert.deepEqual(routeStates([], []), [], 'IPv6 off: nothing in the dump');
  });

  it('keeps per-interface sysctls that differ from conf/default, for moved links only', () => {
    const values = new Map([
      ['ipv4/conf/default/arp_notify', '0'],
      ['ipv4/conf/eth0/arp_notify', '1'],
      ['ipv4/conf/default/rp_filter', '2'],
      ['ipv4/conf/eth0/rp_filter', '2'],
      ['ipv4/conf/net9/arp_notify', '1'],
      ['ipv6/conf/default/accept_dad', '1'],
      ['ipv6/conf/eth0/accept_dad', '0'],
    ]);
    assert.deepEqual(differingSysctls(values, ['eth0']), { 'ipv4/conf/eth0/arp_notify': '1', 'ipv6/conf/eth0/accept_dad': '0' });
  });

  it('restores link first, then addresses, then link routes before gateway routes', () => {
    const links = linkStates(RAW_LINKS);
    const snap = { links, addrs: addrStates(RAW_ADDRS, links), routes: routeStates(RAW_ROUTES, links), sysctls: {} };
    assert.deepEqual(restoreCommands(snap, ['eth0']), [
      'link set dev lo up',
      'link set dev eth0 mtu 1400 up',
      'address replace 10.250.7.2/24 dev eth0 broadcast 10.250.7.255',
      'address replace fd00::2/64 dev eth0 nodad',
      'route replace 10.99.0.0/24 dev eth0 scope link table 100',
      'route replace default via 10.250.7.1 dev eth0',
      'route replace 10.8.0.0/16 via 10.250.7.1 dev eth0 proto static metric 5 onlink',
      'route replace ::/0 via fd00::1 dev eth0 metric 1024',
    ]);
    assert.deepEqual(restoreCommands(snap, ['net1']), ['link set dev lo up', 'link set dev net1 mtu 1500']);
  });

  it('moves only plain interface names', () => {
    assert.ok(isPlainIfName('eth0'));
    assert.ok(isPlainIfName('veth9ff7db4c'));
    assert.ok(!isPlainIfName('a b'));
    assert.ok(!isPlainIfName('x;reboot'));
    assert.ok(!isPlainIfName('sixteen-chars-xx'));
  });
});
