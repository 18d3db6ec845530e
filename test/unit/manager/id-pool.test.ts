import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { IdPool, IdPoolConfigError, IdPoolExhaustedError, parsePoolSpec, RANGE_SIZE } from '../../../src/manager/id-pool.js';

const dirs: string[] = [];
function dir(): string {
  const d = mkdtempSync(join(tmpdir(), 'vnode-idpool-'));
  dirs.push(d);
  return d;
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe('IdPool', () => {
  it('hands out disjoint ranges above 65535, lowest first', () => {
    const pool = new IdPool(dir(), '65536-327679');
    const a = pool.allocate('i/a');
    const b = pool.allocate('i/b');
    assert.deepEqual(a, { start: 65536, size: RANGE_SIZE });
    assert.deepEqual(b, { start: 131072, size: RANGE_SIZE });
  });

  it('never shares a range between two pools on the same directory (two managers)', () => {
    const d = dir();
    const one = new IdPool(d, '65536-327679');
    const two = new IdPool(d, '65536-327679');
    const starts = [one.allocate('x/1'), two.allocate('y/1'), one.allocate('x/2'), two.allocate('y/2')].map((r) => r.start);
    assert.equal(new Set(starts).size, 4);
    assert.throws(() => one.allocate('x/3'), IdPoolExhaustedError);
  });

  it('says what to do when exhausted, and reuses a released range', () => {
    const pool = new IdPool(dir(), '65536-131071');
    const r = pool.allocate('i/a');
    assert.throws(() => pool.allocate('i/b'), /all 1 ranges .* are taken by live vNodes; remove vNodes or widen the pool/);
    assert.equal(pool.release(r, 'i/other'), false, 'only the owner may release');
    assert.equal(pool.release(r, 'i/a'), true);
    assert.deepEqual(pool.allocate('i/b'), r);
    assert.deepEqual(pool.leases(), [{ range: r, owner: 'i/b' }]);
  });

  it('rejects pool specs that would hand out host IDs or partial ranges', () => {
    assert.throws(() => parsePoolSpec('0-65535'), IdPoolConfigError);
    assert.throws(() => parsePoolSpec('65537-200000'), /multiple of 65536/);
    assert.throws(() => parsePoolSpec('65536-70000'), /at least one range/);
    assert.throws(() => parsePoolSpec('abc'), /expected FIRST-LAST/);
    assert.deepEqual(parsePoolSpec('65536-131071'), { first: 65536, last: 131071 });
  });
});
