import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { crunHiddenFiles, isCrunBinary } from '../../../src/manager/oci-runtime.js';
import type { CgroupLayout } from '../../../src/cgroup/index.js';

const hybrid: CgroupLayout = { mode: 'hybrid', v1: { memory: '/sys/fs/cgroup/memory' }, unified: '/sys/fs/cgroup/unified' };

describe('crun on a hybrid host', () => {
  it('hides the cgroup2 hierarchy\'s controllers from crun only, only on a hybrid host that has some', () => {
    assert.deepEqual(crunHiddenFiles(true, hybrid, 'hugetlb\n'), ['/sys/fs/cgroup/unified/cgroup.controllers']);
    assert.deepEqual(crunHiddenFiles(true, hybrid, '\n'), []); // systemd's hybrid layout: crun runs as it is
    assert.deepEqual(crunHiddenFiles(false, hybrid, 'hugetlb\n'), []); // runc does not check
    assert.deepEqual(crunHiddenFiles(true, { mode: 'v2', v1: {}, unified: '/sys/fs/cgroup' }, 'cpu memory\n'), []);
    assert.deepEqual(crunHiddenFiles(true, { ...hybrid, unified: '/mnt/cg2' }, 'hugetlb\n'), []); // crun looks at /sys/fs/cgroup/unified only
  });

  it('tells crun by what --version prints, not by its name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnode-crun-'));
    try {
      const wrapper = join(dir, 'runc');
      writeFileSync(wrapper, '#!/bin/sh\necho "crun version 1.21"\necho "commit: x"\n');
      chmodSync(wrapper, 0o755);
      assert.equal(isCrunBinary(wrapper), true);
      const runc = join(dir, 'crun-named-runc');
      writeFileSync(runc, '#!/bin/sh\necho "runc version 1.1.5"\n');
      chmodSync(runc, 0o755);
      assert.equal(isCrunBinary(runc), false);
      assert.equal(isCrunBinary(join(dir, 'missing-crun')), true); // cannot run it: its name decides
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
