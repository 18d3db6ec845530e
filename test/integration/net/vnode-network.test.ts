// A vNode's own network namespace joins the pod network through the same CNI chain a
// vnode pod gets (bridge + host-local, then vnode-cni), run by src/net rather than
// containerd: it gets its own IP, TCP works from a pod on the bridge, two vNodes get
// two IPs, and detach after the vNode died releases the lease and leaves no veth,
// mount or record (twice is fine). A chain that fails leaves nothing either.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { helperPath } from '../../../src/manager/helpers.js';
import { attachVnodeNetwork, captureNetns, detachVnodeNetwork, loadConfList, NetError } from '../../../src/net/index.js';
import { bridgeNet, bridgePorts, cni, deleteBridge, inNetns, inUserns, leases, makeNetns, removeNetns, usernsHolder, CNI_BIN, type BridgeNet } from '../../support/netns.js';
import { mountsBelow } from '../../support/vnode-host.js';

const root = process.getuid?.() === 0;

describe("a vNode's own namespace on the pod network", { skip: root ? false : 'needs root' }, () => {
  let dir: string;
  let net: BridgeNet;
  let peer: string;
  let binDir: string;
  let confDir: string;
  const holders: { kill(): boolean }[] = [];

  before(() => {
    dir = mkdtempSync('/run/vnode-vnet-test-');
    net = bridgeNet(dir, 'vnode-vnet-test', `vnv${process.pid % 100000}`);
    peer = makeNetns(join(dir, 'peer'));
    cni(net, 'ADD', 'peer', peer);
    // the vnode runtime's chain: the cluster's plugins, then vnode-cni
    confDir = join(dir, 'vnode.d');
    mkdirSync(confDir);
    const base = JSON.parse(net.conf) as Record<string, unknown>;
    const { cniVersion, name, ...bridge } = base;
    writeFileSync(join(confDir, '10-test.conflist'), JSON.stringify({ cniVersion, name, plugins: [bridge, { type: 'vnode-cni', stateDir: join(dir, 'markers') }] }));
    binDir = join(dir, 'bin');
    mkdirSync(binDir);
    writeFileSync(join(binDir, 'README'), 'vnode-cni comes from dist/');
  });

  after(async () => {
    for (const h of holders) h.kill();
    for (const v of ['v1', 'v2', 'v3']) await detachVnodeNetwork(join(dir, v)).catch(() => undefined);
    try { cni(net, 'DEL', 'peer', peer); } catch { /* gone */ }
    removeNetns(peer);
    deleteBridge(net);
    rmSync(dir, { recursive: true, force: true });
  });

  it('attaches two vNodes with an IP each, TCP works, detach after the vNode died leaves nothing', async () => {
    const list = loadConfList(confDir);
    const binDirs = [CNI_BIN, join(helperPath('vnode-cni'), '..')];
    const v1 = await usernsHolder();
    const v2 = await usernsHolder(300000);
    holders.push(v1, v2);
    const r1 = (await attachVnodeNetwork({ name: 'v1', initPid: v1.pid, dir: join(dir, 'v1'), list, binDirs, args: { K8S_POD_NAMESPACE: 'team-a' } })) as { ips: { address: string }[] };
    const r2 = (await attachVnodeNetwork({ name: 'v2', initPid: v2.pid, dir: join(dir, 'v2'), list, binDirs })) as { ips: { address: string }[] };
    const ip1 = r1.ips[0]!.address.split('/')[0]!;
    const ip2 = r2.ips[0]!.address.split('/')[0]!;
    assert.notEqual(ip1, ip2);
    const inside = await captureNetns(`/proc/${v1.pid}/ns/net`);
    assert.ok(inside.addrs.some((a) => a.dev === 'eth0' && a.local === ip1), 'eth0 with the IP is in the vNode\'s own namespace');
    assert.ok(inside.routes.some((r) => r.dst === 'default' && r.gateway === net.gateway));
    assert.ok(existsSync(join(dir, 'markers', 'vnode-v1.json')), 'vnode-cni ran last in the chain');

    const server = spawn('nsenter', ['-t', String(v1.pid), '--user', '--net', '--', 'busybox', 'nc', '-l', '-p', '8080', '-e', 'echo', 'hello-from-v1'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(inNetns(peer, ['busybox', 'nc', '-w', '3', ip1, '8080']).trim(), 'hello-from-v1');
    await new Promise((r) => server.once('exit', r));
    assert.match(inUserns(v2.pid, ['busybox', 'ping', '-c', '1', '-W', '3', ip1]), /1 packets received/, 'vNode to vNode');

    const ports = bridgePorts(net).length;
    v1.kill();
    await new Promise((r) => setTimeout(r, 100));
    await detachVnodeNetwork(join(dir, 'v1'));
    assert.ok(!leases(net).includes(ip1), 'lease released');
    assert.equal(bridgePorts(net).length, ports - 1, 'veth gone');
    assert.deepEqual(mountsBelow(join(dir, 'v1')), []);
    assert.equal(existsSync(join(dir, 'v1', 'cni.json')), false);
    assert.equal(existsSync(join(dir, 'markers', 'vnode-v1.json')), false, "vnode-cni's DEL ran");
    await detachVnodeNetwork(join(dir, 'v1'));
    await detachVnodeNetwork(join(dir, 'v2'));
    assert.ok(!leases(net).includes(ip2));
  });

  it('a chain that fails on ADD leaves no lease, veth, mount or record', async () => {
    const list = loadConfList(confDir);
    const v3 = await usernsHolder();
    holders.push(v3);
    const leasesBefore = leases(net).length;
    const portsBefore = bridgePorts(net).length;
    await assert.rejects(
      attachVnodeNetwork({ name: 'v3', initPid: v3.pid, dir: join(dir, 'v3'), list, binDirs: [CNI_BIN] }), // no vnode-cni there
      (e: unknown) => e instanceof NetError && e.code === 'VNODE_NET_CNI_PLUGIN' && /vnode-cni not found/.test(e.message),
    );
    assert.equal(leases(net).length, leasesBefore);
    assert.equal(bridgePorts(net).length, portsBefore);
    assert.deepEqual(mountsBelow(join(dir, 'v3')), []);
    assert.equal(existsSync(join(dir, 'v3', 'cni.json')), false);
  });
});
