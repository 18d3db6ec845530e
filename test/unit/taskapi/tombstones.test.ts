import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Tombstones } from '../../../src/taskapi/tombstones.js';

test('tombstones: one file per namespace/id, plain names only, stale ones swept, cleared on reuse', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vnode-tomb-'));
  try {
    const t = new Tombstones(dir);
    assert.equal(t.pathOf('k8s.io', '../etc'), undefined);
    assert.equal(t.pathOf('', 'abc'), undefined);
    assert.equal(t.pathOf('.hidden', 'abc'), undefined);
    t.write('k8s.io', 'old', Buffer.from([1]));
    const old = t.pathOf('k8s.io', 'old')!;
    const tenMinutesAgo = new Date(Date.now() - 11 * 60_000);
    utimesSync(old, tenMinutesAgo, tenMinutesAgo);
    t.write('k8s.io', 'new', Buffer.from([8, 42]));
    assert.deepEqual([...readFileSync(t.pathOf('k8s.io', 'new')!)], [8, 42]);
    assert.equal(existsSync(old), false, 'a tombstone nobody asked for in 10 minutes is swept');
    assert.equal(existsSync(`${t.pathOf('k8s.io', 'new')}.tmp`), false);
    assert.deepEqual([...t.take('k8s.io', 'new')!], [8, 42]);
    assert.equal(t.take('k8s.io', 'new'), undefined, 'taken once');
    t.write('k8s.io', 'new', Buffer.from([8, 42]));
    t.clear('k8s.io', 'new');
    assert.equal(existsSync(t.pathOf('k8s.io', 'new')!), false, 'a new task of the same id clears it');
    t.write('k8s.io', '../x', Buffer.from([1]));
    assert.equal(existsSync(join(dir, 'x')), false, 'odd names are not written');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
