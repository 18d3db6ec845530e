import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ExitLog, exitCodeOf, parseExitLine, type ExitRecord } from '../../../src/manager/exit-log.js';

describe('exit log', () => {
  it('turns wait statuses into the exit codes containerd reports', () => {
    assert.equal(exitCodeOf(0), 0);
    assert.equal(exitCodeOf(3 << 8), 3);
    assert.equal(exitCodeOf(9), 137); // SIGKILL
    assert.equal(exitCodeOf(15), 143); // SIGTERM
    assert.equal(exitCodeOf(9 | 0x80), 137); // SIGKILL with core flag
  });

  it('parses records and rejects torn or foreign lines', () => {
    assert.deepEqual(parseExitLine('11 768 1795846945.888583012'), { pid: 11, status: 768, at: new Date(1795846945888) });
    assert.equal(parseExitLine('11 768'), undefined);
    assert.equal(parseExitLine('garbage'), undefined);
  });

  it('reports each complete line once, across appends and partial writes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnode-exitlog-'));
    try {
      const path = join(dir, 'exits.log');
      writeFileSync(path, '5 0 1.000000000\n6 2');
      const seen: ExitRecord[] = [];
      const log = new ExitLog(path, (r) => seen.push(r));
      log.drain();
      assert.deepEqual(seen.map((r) => r.pid), [5]);
      appendFileSync(path, '56 2.000000000\n7 9 3.000000000\n');
      log.drain();
      log.drain();
      assert.deepEqual(seen.map((r) => [r.pid, r.status]), [[5, 0], [6, 256], [7, 9]]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
