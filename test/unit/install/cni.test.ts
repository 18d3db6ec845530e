// The vnode conflist following the primary network: what to write for which primary conf
// dir (vnodeCniPlan, pure), and the catch-up on real directories (syncVnodeCni).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { syncVnodeCni, vnodeCniPlan, vnodeConflistText } from '../../../src/install/index.js';

const bridge = (subnet: string, extra: Record<string, unknown>[] = []) => JSON.stringify({
  cniVersion: '1.0.0', name: 'k8s-pod-network',
  plugins: [{ type: 'bridge', bridge: 'cni0', ipam: { type: 'host-local', ranges: [[{ subnet }]] } }, ...extra],
});
const files = (o: Record<string, string | undefined>) => new Map(Object.entries(o));
const P = '/etc/cni/net.d';

describe('install: the vnode conflist follows the primary network', () => {
  it('is current when the copy is the primary with vnode-cni appended, whatever else the primary dir holds', () => {
    const primary = bridge('10.1.0.0/16');
    const copy = vnodeConflistText(JSON.parse(primary) as Record<string, unknown>);
    const plan = vnodeCniPlan(P, files({ '10-bridge.conflist': primary, '99-loopback.conf': '{}', 'README': 'x', 'sub.d': undefined }), files({ '10-bridge.conflist': copy }));
    assert.deepEqual(plan, { kind: 'current', primary: '10-bridge.conflist', name: '10-bridge.conflist' });
  });

  it('rewrites a copy whose primary changed, with vnode-cni still last', () => {
    const old = vnodeConflistText(JSON.parse(bridge('10.1.0.0/16')) as Record<string, unknown>);
    const plan = vnodeCniPlan(P, files({ '10-bridge.conflist': bridge('10.2.0.0/16', [{ type: 'portmap', capabilities: { portMappings: true } }]) }), files({ '10-bridge.conflist': old }));
    assert.equal(plan.kind, 'write');
    if (plan.kind !== 'write') return;
    assert.equal(plan.why, 'changed');
    assert.deepEqual(plan.remove, []);
    const c = JSON.parse(plan.text) as { name: string; plugins: { type: string; ipam?: { ranges: { subnet: string }[][] } }[] };
    assert.deepEqual(c.plugins.map((p) => p.type), ['bridge', 'portmap', 'vnode-cni']);
    assert.equal(c.plugins[0]!.ipam!.ranges[0]![0]!.subnet, '10.2.0.0/16');
    assert.equal(c.name, 'k8s-pod-network', 'same network name: same IPAM store');
  });

  it('follows another network that now sorts first, and then removes the old copy', () => {
    const old = vnodeConflistText(JSON.parse(bridge('10.1.0.0/16')) as Record<string, unknown>);
    const calico = JSON.stringify({ cniVersion: '0.3.1', name: 'k8s-pod-network', type: 'calico', ipam: { type: 'calico-ipam' } });
    const plan = vnodeCniPlan(P, files({ '10-calico.conf': calico, '20-bridge.conflist': bridge('10.1.0.0/16') }), files({ '20-bridge.conflist': old, '.20-bridge.conflist.vnode-7.tmp': 'half' }));
    assert.equal(plan.kind, 'write');
    if (plan.kind !== 'write') return;
    assert.equal(plan.name, '10-calico.conflist', 'a single-plugin .conf becomes a .conflist');
    assert.equal(plan.primary, '10-calico.conf');
    assert.equal(plan.why, 'renamed');
    assert.deepEqual(plan.remove, ['.20-bridge.conflist.vnode-7.tmp', '20-bridge.conflist']);
    assert.deepEqual((JSON.parse(plan.text) as { plugins: { type: string }[] }).plugins.map((p) => p.type), ['calico', 'vnode-cni']);
  });

  it('writes a missing copy, and keeps a primary that already chains vnode-cni as it is', () => {
    const chained = bridge('10.1.0.0/16', [{ type: 'vnode-cni' }]);
    const plan = vnodeCniPlan(P, files({ '10-bridge.conflist': chained }), files({}));
    assert.equal(plan.kind, 'write');
    if (plan.kind !== 'write') return;
    assert.equal(plan.why, 'missing');
    assert.deepEqual((JSON.parse(plan.text) as { plugins: { type: string }[] }).plugins.map((p) => p.type), ['bridge', 'vnode-cni']);
  });

  it('keeps the last good copy when the primary network is gone or does not load', () => {
    const copy = files({ '10-bridge.conflist': 'old' });
    const gone = vnodeCniPlan(P, files({ 'README': 'x' }), copy);
    assert.deepEqual(gone, { kind: 'keep', kept: ['10-bridge.conflist'], warning: 'no CNI network in /etc/cni/net.d: keeping 10-bridge.conflist' });
    const half = vnodeCniPlan(P, files({ '10-bridge.conflist': '{"cniVersion": "1.0.0", "plu', '20-other.conflist': bridge('10.9.0.0/16') }), copy);
    assert.equal(half.kind, 'keep', 'a half-written first file is not skipped for the next one (containerd fails to load it too)');
    assert.match(half.kind === 'keep' ? half.warning : '', /^\/etc\/cni\/net\.d\/10-bridge\.conflist does not parse \(.+\): keeping 10-bridge\.conflist$/);
    for (const bad of ['[]', '"x"', '{"name":"n","plugins":[]}', '{"plugins":[{"type":"bridge"}]}', '{"name":"n","plugins":[{"ipam":{}}]}']) {
      assert.equal(vnodeCniPlan(P, files({ '10-bridge.conflist': bad }), copy).kind, 'keep', bad);
    }
    assert.match((vnodeCniPlan(P, files({}), files({})) as { warning: string }).warning, /the vnode conf dir has no copy yet$/);
  });
});

describe('install: syncVnodeCni on directories', () => {
  it('rewrites atomically, removes a renamed copy after writing, and leaves a kept copy alone', () => {
    const root = mkdtempSync(join(tmpdir(), 'vnode-cnisync-'));
    try {
      const primary = join(root, 'net.d');
      const vnode = join(root, 'vnode.d');
      mkdirSync(primary);
      writeFileSync(join(primary, '10-bridge.conflist'), bridge('10.1.0.0/16'));
      assert.equal(syncVnodeCni(primary, vnode).kind, 'write', 'the vnode dir is created');
      assert.equal(syncVnodeCni(primary, vnode).kind, 'current');
      writeFileSync(join(root, 'calico.json'), JSON.stringify({ cniVersion: '0.3.1', name: 'n', type: 'calico' }));
      symlinkSync(join(root, 'calico.json'), join(primary, '05-calico.conf'));
      const p = syncVnodeCni(primary, vnode);
      assert.equal(p.kind === 'write' && p.why, 'renamed');
      assert.deepEqual(readdirSync(vnode), ['05-calico.conflist']);
      rmSync(join(primary, '05-calico.conf'));
      rmSync(join(primary, '10-bridge.conflist'));
      const before = readFileSync(join(vnode, '05-calico.conflist'), 'utf8');
      assert.equal(syncVnodeCni(primary, vnode).kind, 'keep');
      rmSync(primary, { recursive: true });
      assert.equal(syncVnodeCni(primary, vnode).kind, 'keep', 'the primary dir itself gone');
      assert.equal(readFileSync(join(vnode, '05-calico.conflist'), 'utf8'), before);
      assert.deepEqual(readdirSync(vnode), ['05-calico.conflist']);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
