import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WaitJournal } from '../../../src/manager/request-journal.js';

describe('WaitJournal', () => {
  it('journals Wait under both names of the Task service, and nothing else', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnode-journal-'));
    try {
      const j = new WaitJournal(dir, () => 'conn');
      assert.equal(j.wants('containerd.task.v2.Task', 'Wait'), true);
      assert.equal(j.wants('containerd.task.v3.Task', 'Wait'), true, 'containerd 2.x in shim protocol 3');
      assert.equal(j.wants('containerd.task.v3.Task', 'Create'), false);
      assert.equal(j.wants('containerd.task.v4.Task', 'Wait'), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
