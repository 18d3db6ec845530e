// The OOM verdict at an init's exit, on cgroup files laid out in a temp dir as v2 has them:
// the container's own count, and under the systemd driver the pod slice's count once
// systemd has removed the empty scope.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { oomBaseline, wasOomKilled } from '../../../../src/manager/task/oom.js';
import type { CgroupLocation } from '../../../../src/cgroup/index.js';

const events = (kills: number) => `low 0\nhigh 0\nmax 12\noom 1\noom_kill ${kills}\noom_group_kill 0\n`;

function layout(): { root: string; slice: string; scope: string } {
  const root = mkdtempSync(join(tmpdir(), 'vnode-oom-'));
  const slice = join(root, 'kubepods.slice', 'kubepods-podabc.slice');
  const scope = join(slice, 'cri-containerd-c1.scope');
  mkdirSync(scope, { recursive: true });
  writeFileSync(join(slice, 'memory.events'), events(2));
  writeFileSync(join(scope, 'memory.events'), events(0));
  return { root, slice, scope };
}

test("the container's own count decides while its cgroup exists (cgroupfs, or a scope not yet removed)", () => {
  const { root, slice, scope } = layout();
  try {
    const cg: CgroupLocation = { version: 2, path: scope };
    assert.equal(oomBaseline(cg), undefined, 'no baseline without a systemd unit');
    assert.equal(wasOomKilled(cg, undefined), false);
    writeFileSync(join(scope, 'memory.events'), events(1));
    assert.equal(wasOomKilled(cg, undefined), true);
    writeFileSync(join(slice, 'memory.events'), events(9));
    writeFileSync(join(scope, 'memory.events'), events(0));
    assert.equal(wasOomKilled({ ...cg, systemd: { slice: 'kubepods-podabc.slice', unit: 'cri-containerd-c1.scope' } }, { parentKills: 2 }), false, 'the slice is asked only once the scope is gone');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a removed systemd scope: a rise of the pod slice count since create means the init was OOM-killed', () => {
  const { root, slice, scope } = layout();
  try {
    const cg: CgroupLocation = { version: 2, path: scope, systemd: { slice: 'kubepods-podabc.slice', unit: 'cri-containerd-c1.scope' } };
    const base = oomBaseline(cg);
    assert.deepEqual(base, { parentKills: 2 });
    rmSync(scope, { recursive: true });
    assert.equal(wasOomKilled(cg, base), false, 'no new kill in the slice: a plain SIGKILL');
    writeFileSync(join(slice, 'memory.events'), events(3));
    assert.equal(wasOomKilled(cg, base), true);
    assert.equal(wasOomKilled(cg, undefined), false, 'a record from before the baseline existed');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
