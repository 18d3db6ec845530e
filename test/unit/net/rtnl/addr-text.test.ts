// Addresses as iproute2 prints them (inet_ntop), parsed back to bytes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatIp, formatMac, formatPrefix, parseIp, parsePrefix } from '../../../../src/net/rtnl/addr-text.js';

describe('address text', () => {
  it('prints IPv6 with the longest zero run compressed, like inet_ntop', () => {
    const cases: [string, string][] = [
      ['fd00:0:0:0:0:0:0:2', 'fd00::2'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['0:0:0:0:0:0:0:0', '::'],
      ['fe80:0:0:0:4402:7dff:fe7d:c9fe', 'fe80::4402:7dff:fe7d:c9fe'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'],
      ['fd00:0:0:0:0:0:0:0', 'fd00::'],
      ['0:0:0:0:0:ffff:a01:203', '::ffff:10.1.2.3'],
    ];
    for (const [full, want] of cases) {
      assert.equal(formatIp(parseIp(full)), want, full);
      assert.deepEqual(parseIp(want), parseIp(full), want);
    }
    assert.equal(formatIp(Buffer.from([10, 250, 7, 2])), '10.250.7.2');
  });

  it('refuses what is not an address of the family', () => {
    for (const bad of ['10.0.0', '10.0.0.256', '1::2::3', 'fd00::g', '1:2:3:4:5:6:7:8:9', '']) assert.throws(() => parseIp(bad), bad);
    assert.throws(() => parseIp('fd00::1', 'inet'));
    assert.throws(() => parseIp('10.0.0.1', 'inet6'));
  });

  it('prints destinations as ip route does and reads them back', () => {
    assert.equal(formatPrefix(undefined, 0, 'inet'), 'default');
    assert.equal(formatPrefix('10.1.2.3', 32, 'inet'), '10.1.2.3');
    assert.equal(formatPrefix('10.8.0.0', 16, 'inet'), '10.8.0.0/16');
    assert.equal(formatPrefix('fd00::', 64, 'inet6'), 'fd00::/64');
    assert.deepEqual(parsePrefix('default', 'inet6'), { len: 0 });
    assert.deepEqual(parsePrefix('10.1.2.3', 'inet'), { addr: Buffer.from([10, 1, 2, 3]), len: 32 });
    assert.equal(parsePrefix('fd00::/64', 'inet6').len, 64);
    assert.throws(() => parsePrefix('10.0.0.0/33', 'inet'));
  });

  it('prints link-layer addresses as hex pairs', () => {
    assert.equal(formatMac(Buffer.from([0x46, 2, 0x7d, 0x7d, 0xc9, 0xfe])), '46:02:7d:7d:c9:fe');
  });
});
