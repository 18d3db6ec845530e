// The manager's follower of the primary CNI network: where it learns the dirs, and a
// rewrite on a change seen by fs.watch (not the periodic catch-up, set to an hour here).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { callbackLogger } from '../../../src/log/index.js';
import { CniFollower, cniFollowDirs } from '../../../src/manager/cni-follow.js';

const conflist = (subnet: string) => JSON.stringify({ cniVersion: '1.0.0', name: 'net', plugins: [{ type: 'bridge', ipam: { type: 'host-local', subnet } }] });

async function until<T>(what: string, f: () => T | undefined, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('manager: the vnode CNI follower', () => {
  it('takes the dirs from the environment, else from the install record, else follows nothing', () => {
    const rec = () => ({ primary: '/etc/cni/net.d', vnode: '/opt/vnode/etc/cni/net.d', record: '/opt/vnode/install.json' });
    assert.deepEqual(cniFollowDirs({ VNODE_CNI_PRIMARY_CONF_DIR: '/p', VNODE_CNI_CONF_DIR: '/v' }, rec), { primary: '/p', vnode: '/v', source: 'VNODE_CNI_PRIMARY_CONF_DIR' });
    assert.deepEqual(cniFollowDirs({ VNODE_CNI_CONF_DIR: '/v' }, rec), { primary: '/etc/cni/net.d', vnode: '/opt/vnode/etc/cni/net.d', source: '/opt/vnode/install.json' });
    assert.equal(cniFollowDirs({ VNODE_CNI_CONF_DIR: '/v' }, () => undefined), undefined, 'a checkout or `vnode run`: nothing to follow');
  });

  it('rewrites the copy when the primary changes, warns once while it is gone, and keeps the copy', async () => {
    const root = mkdtempSync(join(tmpdir(), 'vnode-follow-'));
    const lines: string[] = [];
    const primary = join(root, 'net.d');
    const vnode = join(root, 'vnode.d');
    mkdirSync(primary);
    writeFileSync(join(primary, '10-net.conflist'), conflist('10.1.0.0/24'));
    const f = new CniFollower({ primary, vnode, source: 'test' }, callbackLogger((m) => lines.push(m)), 3_600_000);
    try {
      const copy = () => readFileSync(join(vnode, '10-net.conflist'), 'utf8');
      assert.match(copy(), /10\.1\.0\.0\/24/, 'the first catch-up runs at start');
      writeFileSync(join(primary, '10-net.conflist'), conflist('10.2.0.0/24'));
      await until('the copy to follow', () => (copy().includes('10.2.0.0/24') ? true : undefined));
      assert.deepEqual((JSON.parse(copy()) as { plugins: { type: string }[] }).plugins.map((p) => p.type), ['bridge', 'vnode-cni']);
      assert.ok(lines.some((l) => l === `vnode CNI conflist ${vnode}/10-net.conflist rewritten from ${primary}/10-net.conflist (changed)`), lines.join('\n'));
      rmSync(join(primary, '10-net.conflist'));
      await until('a warning', () => (lines.some((l) => l.startsWith('vnode CNI: no CNI network in')) ? true : undefined));
      f.sync();
      f.sync();
      assert.equal(lines.filter((l) => l.startsWith('vnode CNI: no CNI network in')).length, 1, 'once per cause');
      assert.match(copy(), /10\.2\.0\.0\/24/, 'the last good copy stays');
    } finally {
      f.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
