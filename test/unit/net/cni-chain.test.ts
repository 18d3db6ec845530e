// The CNI chain runner's CHECK rules (libcni's CheckNetworkList): nothing runs for a
// list with disableCheck, versions before 0.4.0 have no CHECK, and loadConfList keeps
// the list's disableCheck. No plugin runs here (the bin dir is empty).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { cniCheck, loadConfList, NetError, type CniConfList } from '../../../src/net/index.js';

describe('cniCheck', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vnode-cni-chain-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const rt = { containerId: 'c1', netns: '/run/netns/x', ifName: 'eth0', binDirs: [dir] };
  const list: CniConfList = { cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'bridge' }, { type: 'vnode-cni' }] };

  it('runs nothing for a list with disableCheck', async () => {
    await cniCheck({ ...list, disableCheck: true }, rt, {});
  });

  it('refuses versions before 0.4.0, which have no CHECK', async () => {
    await assert.rejects(cniCheck({ ...list, cniVersion: '0.3.1' }, rt, {}), (e: unknown) => e instanceof NetError && e.code === 'VNODE_NET_CNI_CONFIG' && /cniVersion 0\.3\.1: CHECK needs 0\.4\.0/.test(e.message));
  });

  it('runs the plugins in order from 0.4.0 on (here: the first is missing)', async () => {
    await assert.rejects(cniCheck({ ...list, cniVersion: '0.4.0' }, rt, {}), (e: unknown) => e instanceof NetError && e.code === 'VNODE_NET_CNI_PLUGIN' && /CNI plugin bridge not found/.test(e.message));
  });

  it('loadConfList keeps disableCheck', () => {
    writeFileSync(join(dir, '10-n.conflist'), JSON.stringify({ ...list, disableCheck: true }));
    assert.equal(loadConfList(dir).disableCheck, true);
    writeFileSync(join(dir, '10-n.conflist'), JSON.stringify(list));
    assert.equal(loadConfList(dir).disableCheck, undefined);
  });
});
