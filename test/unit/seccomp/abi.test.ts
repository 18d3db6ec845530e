import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AUDIT_ARCH_I386, AUDIT_ARCH_X86_64, encodeResponse, encodeSysinfo, NOTIF_SIZE, parseNotification } from '../../../src/seccomp/abi.js';

const view = { uptime: 42, loads: [1, 0.5, 0] as [number, number, number], totalram: 256 * 2 ** 20, freeram: 200 * 2 ** 20, sharedram: 4096, bufferram: 8192, totalswap: 0, freeswap: 0, procs: 7 };

test('struct sysinfo with 64-bit longs: 112 bytes, the kernel field offsets, loads in 1/65536', () => {
  const b = encodeSysinfo(view, AUDIT_ARCH_X86_64);
  assert.equal(b.length, 112);
  assert.equal(b.readBigUInt64LE(0), 42n);
  assert.equal(b.readBigUInt64LE(8), 65536n);
  assert.equal(b.readBigUInt64LE(16), 32768n);
  assert.equal(b.readBigUInt64LE(32), BigInt(256 * 2 ** 20));
  assert.equal(b.readBigUInt64LE(40), BigInt(200 * 2 ** 20));
  assert.equal(b.readBigUInt64LE(48), 4096n);
  assert.equal(b.readBigUInt64LE(56), 8192n);
  assert.equal(b.readUInt16LE(80), 7);
  assert.equal(b.readUInt32LE(104), 1, 'mem_unit');
});

test('struct sysinfo for i386 callers: 64 bytes, sizes scaled by mem_unit until they fit 32 bits', () => {
  const big = { ...view, totalram: 24 * 2 ** 30, freeram: 20 * 2 ** 30 };
  const b = encodeSysinfo(big, AUDIT_ARCH_I386);
  assert.equal(b.length, 64);
  const unit = b.readUInt32LE(52);
  assert.equal(unit, 8);
  assert.equal(b.readUInt32LE(16) * unit, 24 * 2 ** 30);
  assert.equal(b.readUInt32LE(20) * unit, 20 * 2 ** 30);
  assert.equal(b.readUInt16LE(40), 7);
  assert.equal(b.readUInt32LE(0), 42);
});

test('a notification is read with its arch and arguments, and named only when vnode-seccomp notifies that number', () => {
  const b = new Uint8Array(NOTIF_SIZE);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, 0x1234n, true);
  v.setUint32(8, 999, true);
  v.setInt32(16, 99, true); // x86_64 sysinfo
  v.setUint32(20, AUDIT_ARCH_X86_64, true);
  v.setBigUint64(32, 0x7ffd0000n, true);
  const n = parseNotification(b);
  assert.deepEqual([n.id, n.pid, n.nr, n.syscall, n.args[0]], [0x1234n, 999, 99, 'sysinfo', 0x7ffd0000n]);
  v.setUint32(20, AUDIT_ARCH_I386, true); // 99 is not sysinfo there
  assert.equal(parseNotification(b).syscall, undefined);
  v.setInt32(16, 116, true);
  assert.equal(parseNotification(b).syscall, 'sysinfo');
});

test('responses carry -errno, or the continue flag', () => {
  const r = encodeResponse(7n, { error: 1 });
  assert.equal(r.length, 24);
  assert.equal(r.readBigUInt64LE(0), 7n);
  assert.equal(r.readInt32LE(16), -1);
  assert.equal(r.readUInt32LE(20), 0);
  assert.equal(encodeResponse(7n, { continue: true }).readUInt32LE(20), 1);
  assert.equal(encodeResponse(7n, { val: 0n }).readInt32LE(16), 0);
});
