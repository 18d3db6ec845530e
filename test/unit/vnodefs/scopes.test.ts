// Entries of one vNode (its pods) share sysctl values and the load; the scope goes with
// its last entry. The task counts come from fixture cgroup directories listing this
// process's own thread, so /proc/<tid>/status is real.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { CgroupReader } from '../../../src/cgroup/index.js';
import { VnodeScopes } from '../../../src/vnodefs/scopes.js';

function fixtureCgroup(root: string, name: string, tids: number[]): CgroupReader {
  const dir = join(root, name);
  mkdirSync(dir);
  writeFileSync(join(dir, 'cgroup.threads'), tids.map((t) => `${t}\n`).join(''));
  return new CgroupReader({ version: 2, path: dir });
}

test('the pods of one scope share sysctl values and count their tasks together; another scope sees neither', () => {
  const root = mkdtempSync(join(tmpdir(), 'vnode-scopes-'));
  try {
    const scopes = new VnodeScopes();
    const podA = fixtureCgroup(root, 'pod-a', [process.pid]);
    const podB = fixtureCgroup(root, 'pod-b', [process.pid, process.pid]);
    const other = fixtureCgroup(root, 'other', [process.pid]);
    const a = scopes.acquire('ns-team', { sysctls: { 'vm/max_map_count': '262144' }, cgroup: podA, nsLevel: 0 });
    const b = scopes.acquire('ns-team', { sysctls: { 'vm/max_map_count': 'stale' }, cgroup: podB, nsLevel: 0 });
    const o = scopes.acquire('ns-other', { cgroup: other, nsLevel: 0 });
    assert.equal(b.sysctls, a.sysctls, 'a second pod joins the values that are there');
    assert.equal(b.sysctls.get('vm/max_map_count'), '262144');
    b.sysctls.set('kernel/core_pattern', 'core');
    assert.equal(a.sysctls.get('kernel/core_pattern'), 'core');
    assert.equal(o.sysctls.size, 0);
    assert.equal(a.load, b.load, 'one load for the vNode');
    assert.equal(a.load.tasks(true).total, 3, 'tasks of both pods');
    assert.equal(a.load.tasks(true).lastPid, process.pid);
    assert.equal(o.load.tasks(true).total, 1);
    // sampled once per interval even when every entry asks
    a.load.sample(100_000);
    b.load.sample(100_001);
    assert.ok(a.load.snapshot().avg[0] > 0);
    const once = a.load.snapshot().avg[0];
    b.load.sample(100_002);
    assert.equal(a.load.snapshot().avg[0], once);
    scopes.release('ns-team', podB);
    assert.equal(a.load.tasks(true).total, 1, 'a pod that goes stops counting');
    assert.equal(scopes.acquire('ns-team', { cgroup: podB, nsLevel: 0 }).sysctls, a.sysctls, 'kept while one entry remains');
    scopes.release('ns-team', podB);
    scopes.release('ns-team', podA);
    assert.equal(scopes.acquire('ns-team', { cgroup: podA, nsLevel: 0 }).sysctls.size, 0, 'gone with the last entry');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
