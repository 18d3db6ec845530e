// rtnetlink messages: decoding what the kernel sends (bodies captured from Linux 6.18
// dumps of a namespace the bridge plugin's way: `ip route`/`ip address` of a pod), and
// the requests vnode sends, field by field.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodeAddr, decodeLink, decodeRoute, getLinkByName, moveLink, putAddr, putRoute, setLink } from '../../../../src/net/rtnl/messages.js';
import { decodeAttrs, decodeMessages, encodeAttrs, cstring, u32 } from '../../../../src/net/rtnl/wire.js';

const hex = (s: string) => Buffer.from(s, 'hex');
const one = (b: Buffer) => decodeMessages(b)[0]!;

describe('rtnetlink messages', () => {
  it('decodes routes as the kernel dumps them', () => {
    assert.deepEqual(decodeRoute(hex('02000000fe0300010000000008000f00fe000000080005000afa07010800040002000000')), {
      family: 2, dstLen: 0, table: 254, protocol: 3, scope: 0, type: 1, flags: 0, multipath: false, gateway: '10.250.7.1', oif: 2,
    });
    assert.deepEqual(decodeRoute(hex('02100000fe0400010400000008000f00fe000000080001000a0800000800060005000000080005000afa07010800040002000000')), {
      family: 2, dstLen: 16, table: 254, protocol: 4, scope: 0, type: 1, flags: 4, multipath: false, dst: '10.8.0.0', gateway: '10.250.7.1', oif: 2, priority: 5,
    });
    const v6 = decodeRoute(
      hex('0a000000fe0300010000000008000f00fe000000080006000004000014000500fd000000000000000000000000000001080004000200000024000c0000000000000000000000000000000000000000000000000000000000000000000500140000000000'),
    );
    assert.deepEqual([v6.family, v6.gateway, v6.priority, v6.oif], [10, 'fd00::1', 1024, 2]);
  });

  it('decodes addresses, with IFA_FLAGS over the 8-bit flags', () => {
    assert.deepEqual(decodeAddr(hex('0218800002000000080001000afa0702080002000afa0702080004000afa07ff090003006574683000000000080008008000000014000600ffffffffffffffff21fb000021fb0000')), {
      family: 2, prefixlen: 24, flags: 0x80, scope: 0, index: 2, local: '10.250.7.2', broadcast: '10.250.7.255',
    });
    assert.deepEqual(decodeAddr(hex('0a4082000200000014000100fd00000000000000000000000000000214000600ffffffffffffffff22fb000022fb00000800080082000000')), {
      family: 10, prefixlen: 64, flags: 0x82, scope: 0, index: 2, local: 'fd00::2',
    });
  });

  it('decodes a link: index, flags, name, MTU, MAC, kind', () => {
    const info = Buffer.alloc(16);
    info.writeInt32LE(2, 4);
    info.writeUInt32LE(0x11043, 8);
    const attrs = encodeAttrs([
      [3, cstring('eth0')],
      [4, u32(1400)],
      [1, Buffer.from([0x46, 2, 0x7d, 0x7d, 0xc9, 0xfe])],
      [18, [[1, cstring('veth')]]],
    ]);
    assert.deepEqual(decodeLink(Buffer.concat([info, attrs])), { index: 2, name: 'eth0', flags: 0x11043, mtu: 1400, mac: '46:02:7d:7d:c9:fe', kind: 'veth' });
  });

  it('asks for a link by name and moves it by namespace descriptor', () => {
    const g = one(getLinkByName(5, 'eth0'));
    assert.deepEqual([g.type, g.flags, g.seq], [18, 0x5, 5]);
    assert.equal(decodeAttrs(g.body.subarray(16)).get(3)!.toString(), 'eth0\0');
    const m = one(moveLink(6, 2, 31));
    assert.deepEqual([m.type, m.flags, m.body.readInt32LE(4)], [16, 0x5, 2]);
    assert.equal(decodeAttrs(m.body.subarray(16)).get(28)!.readUInt32LE(0), 31);
  });

  it('sets MTU and up, and leaves a down link down', () => {
    const up = one(setLink(1, 2, 1400, true));
    assert.deepEqual([up.body.readUInt32LE(8), up.body.readUInt32LE(12)], [1, 1]);
    assert.equal(decodeAttrs(up.body.subarray(16)).get(4)!.readUInt32LE(0), 1400);
    const down = one(setLink(1, 3, 1500, false));
    assert.deepEqual([down.body.readUInt32LE(8), down.body.readUInt32LE(12)], [0, 0], 'no IFF_UP in ifi_change: the state is not touched');
    assert.equal(decodeAttrs(one(setLink(1, 1, undefined, true)).body.subarray(16)).size, 0);
  });

  it('replaces an address: create|replace|ack, local and address, broadcast, wide flags', () => {
    const m = one(putAddr(3, { family: 'inet6', index: 2, local: 'fd00::2', prefixlen: 64, flags: 0x202, scope: 0 }));
    assert.deepEqual([m.type, m.flags], [20, 0x505]);
    assert.deepEqual([...m.body.subarray(0, 4)], [10, 64, 0x02, 0]);
    const a = decodeAttrs(m.body.subarray(8));
    assert.equal(a.get(8)!.readUInt32LE(0), 0x202);
    assert.deepEqual(a.get(1), a.get(2));
    assert.equal(decodeAddr(m.body).local, 'fd00::2');
    const v4 = one(putAddr(4, { family: 'inet', index: 2, local: '10.250.7.2', prefixlen: 24, flags: 0, scope: 0, broadcast: '10.250.7.255' }));
    assert.equal(decodeAddr(v4.body).broadcast, '10.250.7.255');
  });

  it('replaces a route; a table past 255 goes in RTA_TABLE alone', () => {
    const m = one(putRoute(7, { family: 'inet', dstLen: 16, dst: Buffer.from([10, 8, 0, 0]), table: 254, protocol: 4, scope: 0, flags: 4, oif: 2, gateway: '10.250.7.1', priority: 5 }));
    assert.deepEqual([m.type, m.flags], [24, 0x505]);
    assert.deepEqual(decodeRoute(m.body), { family: 2, dstLen: 16, table: 254, protocol: 4, scope: 0, type: 1, flags: 4, multipath: false, dst: '10.8.0.0', gateway: '10.250.7.1', oif: 2, priority: 5 });
    const big = one(putRoute(8, { family: 'inet6', dstLen: 0, table: 1000, protocol: 3, scope: 0, flags: 0, oif: 2, gateway: 'fd00::1' }));
    assert.equal(big.body.readUInt8(4), 0, 'rtm_table: RT_TABLE_UNSPEC');
    assert.equal(decodeRoute(big.body).table, 1000);
    assert.equal(decodeAttrs(big.body.subarray(12)).has(1), false, 'no RTA_DST for a default route');
  });
});
