// The file-system half of a mirror (no mounts): a copy of an atomic-writer volume with
// kubelet's modes and the vNode's owners, brought up to date after a `..data` swap.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { MirrorError, syncMirror } from '../../../src/manager/pod-tmpfs/mirror.js';

const root = process.getuid?.() === 0;
const range = { start: 1048576, size: 65536 };

function update(vol: string, ts: string, files: Record<string, [string, number]>, old?: string): void {
  mkdirSync(join(vol, ts));
  for (const [k, [text, mode]] of Object.entries(files)) {
    writeFileSync(join(vol, ts, k), text);
    chmodSync(join(vol, ts, k), mode);
  }
  symlinkSync(ts, join(vol, '..data_tmp'));
  renameSync(join(vol, '..data_tmp'), join(vol, '..data'));
  for (const k of Object.keys(files)) {
    try {
      symlinkSync(`..data/${k}`, join(vol, k));
    } catch {
      /* kept from the last update */
    }
  }
  if (old) rmSync(join(vol, old), { recursive: true });
}

describe('a mirror of an atomic-writer volume', { skip: !root && 'needs root (chown)' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'vnode-mirror-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('copies modes, maps host root to the range, and follows a ..data swap', () => {
    const src = join(dir, 'src');
    const dst = join(dir, 'dst');
    mkdirSync(src);
    mkdirSync(dst);
    update(src, '..1', { token: ['t1', 0o400], 'ca.crt': ['ca', 0o644] });
    chownSync(join(src, '..1', 'ca.crt'), 0, 2000); // an fsGroup
    assert.deepEqual(syncMirror(src, dst, range).map((o) => o.op), ['copy', 'link', 'link', 'link']);
    const tok = statSync(join(dst, 'token'));
    assert.deepEqual([tok.uid, tok.gid, tok.mode & 0o7777], [range.start, range.start, 0o400]);
    assert.equal(statSync(join(dst, 'ca.crt')).gid, range.start + 2000);
    assert.equal(readlinkSync(join(dst, 'token')), '..data/token');
    assert.equal(lstatSync(join(dst, '..data')).uid, range.start, 'links are the vNode root\'s too');
    assert.deepEqual(syncMirror(src, dst, range), [], 'up to date');

    update(src, '..2', { token: ['t2', 0o400], 'ca.crt': ['ca', 0o644], namespace: ['ns', 0o644] }, '..1');
    syncMirror(src, dst, range);
    assert.equal(readFileSync(join(dst, 'token'), 'utf8'), 't2');
    assert.equal(readFileSync(join(dst, 'namespace'), 'utf8'), 'ns');
    assert.deepEqual(readdirSync(dst).sort(), ['..2', '..data', 'ca.crt', 'namespace', 'token']);
    assert.equal(statSync(join(src, '..2', 'token')).uid, 0, "kubelet's files untouched");
  });

  it('refuses a source that is no atomic-writer volume', () => {
    const plain = join(dir, 'plain');
    mkdirSync(plain);
    assert.throws(() => syncMirror(plain, join(dir, 'dst'), range), MirrorError);
  });
});
