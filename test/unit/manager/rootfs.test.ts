import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { plainBindInstead } from '../../../src/manager/rootfs.js';
import { SyscallError } from '../../../src/sys/libc.js';

describe('pod files on kernels without ID-mapped tmpfs', () => {
  const TMPFS = 0x01021994;
  const EXT4 = 0xef53;
  it('falls back to a plain bind only for tmpfs refusing MOUNT_ATTR_IDMAP with EINVAL', () => {
    assert.equal(plainBindInstead(new SyscallError('mount_setattr', 22), TMPFS), true);
    assert.equal(plainBindInstead(new SyscallError('mount_setattr', 22), BigInt(TMPFS)), true);
    assert.equal(plainBindInstead(new SyscallError('mount_setattr', 22), EXT4), false, 'ext4 must ID-map: a failure there is real');
    assert.equal(plainBindInstead(new SyscallError('mount_setattr', 1), TMPFS), false, 'EPERM is not a kernel limitation');
    assert.equal(plainBindInstead(new SyscallError('open_tree', 22), TMPFS), false);
    assert.equal(plainBindInstead(new Error('x'), TMPFS), false);
  });
});
