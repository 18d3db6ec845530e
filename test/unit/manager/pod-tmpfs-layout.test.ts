import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAtomicWriter, planSync, type DirEntryInfo } from '../../../src/manager/pod-tmpfs/layout.js';
import { vnodeOwner } from '../../../src/manager/pod-tmpfs/owners.js';
import { tmpfsIdmapMode, TmpfsModeError } from '../../../src/manager/pod-tmpfs/fallback.js';

const OLD = '..2026_12_02_20_00_00.1';
const NEW = '..2026_12_02_20_05_00.2';
const dir = (name: string): DirEntryInfo => ({ name, kind: 'dir' });
const link = (name: string, target: string): DirEntryInfo => ({ name, kind: 'link', target });

/** A secret volume as kubelet's atomic writer leaves it. */
const secret = (data: string, keys: string[]) => [dir(data), link('..data', data), ...keys.map((k) => link(k, `..data/${k}`))];

describe("kubelet's atomic-writer layout", () => {
  it('reads ..data and the user-visible key links', () => {
    const l = parseAtomicWriter(secret(OLD, ['token', 'ca.crt']))!;
    assert.equal(l.data, OLD);
    assert.deepEqual([...l.links], [['token', '..data/token'], ['ca.crt', '..data/ca.crt']]);
  });

  it('is not an atomic-writer volume without a ..data link to a timestamped directory beside it', () => {
    assert.equal(parseAtomicWriter([]), undefined, 'an emptyDir');
    assert.equal(parseAtomicWriter([{ name: '..data', kind: 'dir' }]), undefined, 'a directory named ..data');
    assert.equal(parseAtomicWriter([link('..data', OLD)]), undefined, 'a dangling ..data');
    assert.equal(parseAtomicWriter([dir('x'), link('..data', 'x')]), undefined, 'not a timestamped name');
    assert.equal(parseAtomicWriter([dir('..data_tmp'), link('..data', '..data_tmp')]), undefined);
    assert.equal(parseAtomicWriter([link('..data', '/etc')]), undefined, 'an absolute target');
  });

  it('plans a fresh mirror: copy, then ..data, then the keys', () => {
    assert.deepEqual(planSync(parseAtomicWriter(secret(OLD, ['token']))!, []), [
      { op: 'copy', name: OLD },
      { op: 'link', name: '..data', target: OLD },
      { op: 'link', name: 'token', target: '..data/token' },
    ]);
  });

  it('plans nothing for an up-to-date mirror', () => {
    assert.deepEqual(planSync(parseAtomicWriter(secret(OLD, ['token']))!, secret(OLD, ['token'])), []);
  });

  it('follows a ..data swap in kubelet order: new directory, swap, new keys, then removals', () => {
    const ops = planSync(parseAtomicWriter(secret(NEW, ['token', 'namespace']))!, [...secret(OLD, ['token', 'gone']), dir(`${NEW}.vnode-partial`)]);
    assert.deepEqual(ops, [
      { op: 'copy', name: NEW },
      { op: 'link', name: '..data', target: NEW },
      { op: 'link', name: 'namespace', target: '..data/namespace' },
      { op: 'remove', name: OLD },
      { op: 'remove', name: 'gone' },
      { op: 'remove', name: `${NEW}.vnode-partial` },
    ]);
  });

  it('replaces a key that is not the same link any more', () => {
    const ops = planSync(parseAtomicWriter(secret(OLD, ['token']))!, [dir(OLD), link('..data', OLD), { name: 'token', kind: 'file' }]);
    assert.deepEqual(ops, [{ op: 'link', name: 'token', target: '..data/token' }]);
  });
});

describe('vNode owners of mirrored and chowned tmpfs files', () => {
  const r = { start: 1048576, size: 65536 };
  it('maps host IDs below the size into the range, as an ID-mapped mount shows them', () => {
    assert.equal(vnodeOwner(0, r), 1048576);
    assert.equal(vnodeOwner(1000, r), 1049576);
  });
  it('keeps IDs already in the range and IDs the vNode cannot map', () => {
    assert.equal(vnodeOwner(1048576 + 5, r), 1048581);
    assert.equal(vnodeOwner(70000, r), 70000);
  });
});

describe('VNODE_TMPFS_IDMAP', () => {
  it('is auto by default, or off', () => {
    assert.equal(tmpfsIdmapMode(undefined), 'auto');
    assert.equal(tmpfsIdmapMode(''), 'auto');
    assert.equal(tmpfsIdmapMode('auto'), 'auto');
    assert.equal(tmpfsIdmapMode('off'), 'off');
    assert.throws(() => tmpfsIdmapMode('no'), TmpfsModeError);
  });
});
