// Netlink framing: attributes with their padding, nesting, several messages in one
// datagram, and the kernel's error/ack messages with an extended-ack reason.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { cstring, decodeAttrs, decodeError, decodeMessages, doneStatus, encodeAttrs, encodeMessage, u32 } from '../../../../src/net/rtnl/wire.js';

describe('netlink framing', () => {
  it('pads attributes to 4 bytes and reads them back, nested ones too', () => {
    const b = encodeAttrs([
      [3, cstring('eth0')],
      [4, u32(1400)],
      [18, [[1, cstring('veth')]]],
    ]);
    // 4+5 → 12, 4+4 → 8, nested 4+(4+5 → 12) → 16
    assert.equal(b.length, 12 + 8 + 16);
    assert.equal(b.readUInt16LE(0), 9, 'the length counts the value, not the padding');
    assert.equal(b.readUInt16LE(20 + 2), 18 | 0x8000, 'nested attributes carry NLA_F_NESTED');
    const a = decodeAttrs(b);
    assert.equal(a.get(3)!.toString(), 'eth0\0');
    assert.equal(a.get(4)!.readUInt32LE(0), 1400);
    assert.equal(decodeAttrs(a.get(18)!).get(1)!.toString(), 'veth\0');
  });

  it('stops at a truncated attribute instead of reading past it', () => {
    const b = Buffer.concat([encodeAttrs([[4, u32(1)]]), Buffer.from([0x20, 0, 5, 0])]);
    assert.deepEqual([...decodeAttrs(b).keys()], [4]);
  });

  it('frames a request: length, type, flags, sequence, padded family header', () => {
    const m = encodeMessage(18, 0x5, 7, Buffer.alloc(6), [[3, cstring('lo')]]);
    assert.equal(m.length, 16 + 8 + 8);
    assert.equal(m.readUInt32LE(0), m.length);
    assert.equal(m.readUInt16LE(4), 18);
    assert.equal(m.readUInt16LE(6), 0x5);
    assert.equal(m.readUInt32LE(8), 7);
  });

  it('splits a datagram into its messages', () => {
    const d = Buffer.concat([encodeMessage(16, 2, 1, Buffer.alloc(16)), encodeMessage(3, 2, 1, u32(0))]);
    const ms = decodeMessages(d);
    assert.deepEqual(ms.map((m) => [m.type, m.seq, m.body.length]), [[16, 1, 16], [3, 1, 4]]);
    assert.equal(doneStatus(ms[1]!), 0);
    assert.throws(() => decodeMessages(d.subarray(0, 20)), /truncated/);
  });

  it('reads an error with the kernel reason (capped, with TLVs) and a plain ack', () => {
    const req = encodeMessage(24, 0x505, 9, Buffer.alloc(12));
    const err = Buffer.alloc(4);
    err.writeInt32LE(-101);
    // capped: only the request's header is echoed, then NLMSGERR_ATTR_MSG
    const body = Buffer.concat([err, req.subarray(0, 16), encodeAttrs([[1, cstring('Nexthop has invalid gateway')]])]);
    const m = { type: 2, flags: 0x100 | 0x200, seq: 9, body };
    assert.deepEqual(decodeError(m), { errno: 101, message: 'Nexthop has invalid gateway' });
    // not capped: the whole request comes back before the TLVs
    const whole = { type: 2, flags: 0x200, seq: 9, body: Buffer.concat([err, req, encodeAttrs([[1, cstring('x')]])]) };
    assert.deepEqual(decodeError(whole), { errno: 101, message: 'x' });
    const ack = { type: 2, flags: 0x100, seq: 9, body: Buffer.concat([Buffer.alloc(4), req.subarray(0, 16)]) };
    assert.deepEqual(decodeError(ack), { errno: 0 });
  });
});
