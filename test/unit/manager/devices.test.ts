import assert from 'node:assert/strict';
import { test } from 'node:test';
import { devNumbers, hostDeviceNode } from '../../../src/manager/devices.js';

test('dev_t numbers as glibc encodes them, small and large', () => {
  assert.deepEqual(devNumbers(0x0107n), { major: 1, minor: 7 });
  // major 0x1234, minor 0x56789: major high bits above bit 32, minor high bits from bit 20
  const rdev = ((0x1234n & 0xfffff000n) << 32n) | ((0x1234n & 0xfffn) << 8n) | ((0x56789n & 0xffffff00n) << 12n) | (0x56789n & 0xffn);
  assert.deepEqual(devNumbers(rdev), { major: 0x1234, minor: 0x56789 });
});

test("host nodes are found by number in this machine's /dev, the preferred path first", () => {
  assert.equal(hostDeviceNode('c', 1, 7, '/dev/xfull'), '/dev/full');
  assert.equal(hostDeviceNode('c', 1, 7, '/dev/full'), '/dev/full');
  assert.equal(hostDeviceNode('b', 1, 7, '/dev/full'), undefined, 'the type counts');
  assert.equal(hostDeviceNode('c', 4095, 4095, '/dev/x'), undefined);
});
