// The pure half of moving a pod's links: what is read from `ip -j` (iproute2 6.1's
// output, captured here) and which `ip -batch` lines give a moved link its state back.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAddrs, parseConfSysctls, parseLinks, parseRoutes, restoreCommands, isPlainIfName } from '../../../src/net/snapshot.js';

const LINKS = `[{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"address":"00:00:00:00:00:00"},
{"ifindex":2,"link_netnsid":0,"ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1400,"address":"46:02:7d:7d:c9:fe","linkinfo":{"info_kind":"veth"}},
{"ifindex":3,"ifname":"net1","flags":["BROADCAST","MULTICAST"],"mtu":1500,"address":"5a:98:91:fb:ba:ec","linkinfo":{"info_kind":"veth"}}]`;
const ADDRS = `[{"ifindex":1,"ifname":"lo","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo"},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host"}]},
{"ifindex":2,"ifname":"eth0","addr_info":[{"family":"inet","local":"10.250.7.2","prefixlen":24,"broadcast":"10.250.7.255","scope":"global","label":"eth0"},{"family":"inet6","local":"fd00::2","prefixlen":64,"scope":"global","nodad":true},{"family":"inet6","local":"fe80::4402:7dff:fe7d:c9fe","prefixlen":64,"scope":"link"}]}]`;
const ROUTES4 = `[{"dst":"default","gateway":"10.250.7.1","dev":"eth0","flags":[]},
{"dst":"10.8.0.0/16","gateway":"10.250.7.1","dev":"eth0","protocol":"static","metric":5,"flags":["onlink"]},
{"dst":"10.250.7.0/24","dev":"eth0","protocol":"kernel","scope":"link","prefsrc":"10.250.7.2","flags":[]},
{"dst":"10.99.0.0/24","dev":"eth0","table":"100","scope":"link","flags":[]},
{"type":"local","dst":"10.250.7.2","dev":"eth0","table":"local","protocol":"kernel","scope":"host","prefsrc":"10.250.7.2","flags":[]},
{"type":"broadcast","dst":"10.250.7.255","dev":"eth0","table":"local","protocol":"kernel","scope":"link","prefsrc":"10.250.7.2","flags":[]}]`;
const ROUTES6 = `[{"dst":"fd00::/64","dev":"eth0","protocol":"kernel","metric":256,"flags":[],"pref":"medium"},
{"dst":"default","gateway":"fd00::1","dev":"eth0","metric":1024,"flags":[],"pref":"medium"},
{"type":"local","dst":"fd00::2","dev":"eth0","table":"local","protocol":"kernel","metric":0,"flags":[]},
{"type":"multicast","dst":"ff00::/8","dev":"eth0","table":"local","protocol":"kernel","metric":256,"flags":[]}]`;

describe('pod network snapshot', () => {
  it('reads links with MTU, state and kind', () => {
    const links = parseLinks(LINKS);
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
    assert.deepEqual(parseAddrs(ADDRS), [
      { dev: 'eth0', family: 'inet', local: '10.250.7.2', prefixlen: 24, broadcast: '10.250.7.255' },
      { dev: 'eth0', family: 'inet6', local: 'fd00::2', prefixlen: 64 },
    ]);
  });

  it('keeps added routes (any table) and drops the kernel-made ones', () => {
    const r = parseRoutes(ROUTES4, 'inet');
    assert.deepEqual(r.map((x) => x.dst), ['default', '10.8.0.0/16', '10.99.0.0/24']);
    assert.equal(r[1]!.onlink, true);
    assert.equal(r[2]!.table, '100');
    assert.deepEqual(parseRoutes(ROUTES6, 'inet6').map((x) => [x.dst, x.gateway]), [['default', 'fd00::1']]);
    assert.deepEqual(parseRoutes('', 'inet6'), [], 'IPv6 off: no output');
  });

  it('keeps per-interface sysctls that differ from conf/default, for moved links only', () => {
    const grep = [
      '/proc/sys/net/ipv4/conf/default/arp_notify:0',
      '/proc/sys/net/ipv4/conf/eth0/arp_notify:1',
      '/proc/sys/net/ipv4/conf/default/rp_filter:2',
      '/proc/sys/net/ipv4/conf/eth0/rp_filter:2',
      '/proc/sys/net/ipv4/conf/net9/arp_notify:1',
      '/proc/sys/net/ipv6/conf/default/accept_dad:1',
      '/proc/sys/net/ipv6/conf/eth0/accept_dad:0',
    ].join('\n');
    assert.deepEqual(parseConfSysctls(grep, ['eth0']), { 'ipv4/conf/eth0/arp_notify': '1', 'ipv6/conf/eth0/accept_dad': '0' });
  });

  it('turns the snapshot into ip -batch lines: link first, addresses, link routes before gateway routes', () => {
    const snap = { links: parseLinks(LINKS), addrs: parseAddrs(ADDRS), routes: [...parseRoutes(ROUTES4, 'inet'), ...parseRoutes(ROUTES6, 'inet6')], sysctls: {} };
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

  it('moves only interface names that are safe as batch words', () => {
    assert.ok(isPlainIfName('eth0'));
    assert.ok(isPlainIfName('veth9ff7db4c'));
    assert.ok(!isPlainIfName('a b'));
    assert.ok(!isPlainIfName('x;reboot'));
    assert.ok(!isPlainIfName('sixteen-chars-xx'));
  });
});
