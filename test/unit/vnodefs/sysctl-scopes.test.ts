import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SysctlScopes } from '../../../src/vnodefs/sysctl-scopes.js';

test('entries of one scope share sysctl values; the scope starts afresh after its last entry', () => {
  const scopes = new SysctlScopes();
  const podA = scopes.acquire('ns-team', { 'vm/max_map_count': '262144' });
  const podB = scopes.acquire('ns-team', { 'vm/max_map_count': 'stale' });
  const other = scopes.acquire('ns-other', undefined);
  assert.equal(podB, podA, 'a second pod joins the values that are there');
  assert.equal(podB.get('vm/max_map_count'), '262144');
  podB.set('kernel/core_pattern', 'core');
  assert.equal(podA.get('kernel/core_pattern'), 'core');
  assert.equal(other.size, 0, 'another scope sees nothing');
  scopes.release('ns-team');
  assert.equal(scopes.acquire('ns-team', undefined), podA, 'kept while one entry remains');
  scopes.release('ns-team');
  scopes.release('ns-team');
  assert.equal(scopes.acquire('ns-team', undefined).size, 0, 'gone with the last entry');
});
