// Adopting a pod's CNI network into a network namespace owned by a vNode's user
// namespace, with the real bridge + host-local plugins: the address, routes, MTU and
// the plugin's sysctls survive the move, TCP works from another pod on the bridge,
// containerd's netns path names the new namespace, and the real CNI DEL on that path
// followed by containerd's unmount + unlink leaves no veth, lease, mount or namespace.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adoptPodNetwork, captureNetns, moveLinks, netnsInode, NetError, readAdoptionRecord, recoverAdoption, verifyPodNetwork } from '../../../src/net/index.js';
import { bridgeNet, bridgePorts, cni, deleteBridge, inNetns, inUserns, leases, makeNetns, removeNetns, usernsHolder, type BridgeNet } from '../../support/netns.js';
import { mountsBelow } from '../../support/vnode-host.js';

const root = process.getuid?.() === 0;

describe('pod network adoption (bridge + host-local, as root)', { skip: root ? false : 'needs root: network namespaces, veths, mounts' }, () => {
  let dir: string;
  let net: BridgeNet;
  let peer: string;
  let peerIp: string;
  const holders: { kill(): boolean }[] = [];

  before(() => {
    dir = mkdtempSync('/run/vnode-net-test-');
    net = bridgeNet(dir, 'vnode-net-test', `vnt${process.pid % 100000}`);
    peer = makeNetns(join(dir, 'peer'));
    peerIp = String(cni(net, 'ADD', 'peer', peer)['ips'][0].address).split('/')[0]!;
  });

  after(() => {
    for (const h of holders) h.kill();
    try { cni(net, 'DEL', 'peer', peer); } catch { /* gone */ }
    for (const f of ['peer', 'podA', 'podB', 'podC']) removeNetns(join(dir, f));
    deleteBridge(net);
    rmSync(dir, { recursive: true, force: true });
  });

  it('moves eth0 with its address, routes, MTU and sysctls; TCP works; DEL and netns removal leave nothing', async () => {
    const orig = makeNetns(join(dir, 'podA'));
    const add = cni(net, 'ADD', 'podA', orig);
    const ip = String(add['ips'][0].address);
    const vnode = await usernsHolder();
    holders.push(vnode);
    const before = await captureNetns(orig);
    assert.equal(before.sysctls['ipv4/conf/eth0/arp_notify'], '1', 'the bridge plugin set arp_notify on eth0');

    const t0 = process.hrtime.bigint();
    const rec = await adoptPodNetwork({ sandboxId: 'podA', containerdNetns: orig, targetPid: vnode.pid, recordPath: join(dir, 'records', 'podA.json') });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`adoptPodNetwork took ${ms.toFixed(1)} ms`);
    assert.deepEqual(rec.links, ['eth0']);
    assert.equal(readAdoptionRecord(join(dir, 'records', 'podA.json'))?.phase, 'adopted');

    // containerd's path now names the vNode's namespace, which its user namespace owns
    assert.equal(netnsInode(orig), statSync(`/proc/${vnode.pid}/ns/net`).ino);
    const owner = execFileSync('lsns', ['-n', '-t', 'net', '-o', 'ONS', '-p', String(vnode.pid)], { encoding: 'utf8' }).trim();
    assert.equal(Number(owner), statSync(`/proc/${vnode.pid}/ns/user`).ino, 'the netns belongs to the vNode stand-in');
    assert.equal(mountsBelow(orig).length, 1, 'one mount at the path, not a stack');

    const after = await captureNetns(orig);
    const eth0 = after.links.find((l) => l.name === 'eth0');
    assert.equal(eth0?.mtu, before.links.find((l) => l.name === 'eth0')?.mtu);
    assert.equal(eth0?.up, true);
    assert.ok(after.addrs.some((a) => a.dev === 'eth0' && `${a.local}/${a.prefixlen}` === ip), `eth0 has ${ip}: ${JSON.stringify(after.addrs)}`);
    assert.ok(after.routes.some((r) => r.dst === 'default' && r.gateway === net.gateway), `default route via ${net.gateway}`);
    assert.equal(after.sysctls['ipv4/conf/eth0/arp_notify'], '1', 'arp_notify re-applied');
    assert.deepEqual(await verifyPodNetwork(rec), []);

    // root of the vNode has CAP_NET_ADMIN there: it adds and removes a bridge
    inUserns(vnode.pid, ['ip', 'link', 'add', 'vnt-inner', 'type', 'bridge']);
    assert.match(inUserns(vnode.pid, ['ip', '-br', 'link', 'show', 'vnt-inner']), /vnt-inner/);
    inUserns(vnode.pid, ['ip', 'link', 'del', 'vnt-inner']);
    assert.throws(() => execFileSync('ip', ['link', 'show', 'vnt-inner'], { stdio: 'ignore' }), 'nothing of it on the host');

    // TCP both ways between the adopted pod and a pod on the bridge
    const server = spawn('nsenter', ['-t', String(vnode.pid), '--user', '--net', '--', 'busybox', 'nc', '-l', '-p', '8080', '-e', 'echo', 'hello-from-vnode'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(inNetns(peer, ['busybox', 'nc', '-w', '3', ip.split('/')[0]!, '8080']).trim(), 'hello-from-vnode');
    await new Promise((r) => server.once('exit', r));
    const back = spawn('nsenter', [`--net=${peer}`, '--', 'busybox', 'nc', '-l', '-p', '8081', '-e', 'echo', 'hello-from-peer'], { stdio: 'ignore' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(inUserns(vnode.pid, ['busybox', 'nc', '-w', '3', peerIp, '8081']).trim(), 'hello-from-peer');
    await new Promise((r) => back.once('exit', r));

    // the vNode dies first: the bind mount keeps the namespace for containerd's teardown
    vnode.kill();
    await new Promise((r) => setTimeout(r, 100));
    assert.ok((await captureNetns(orig)).links.some((l) => l.name === 'eth0'));
    const portsBefore = bridgePorts(net).length;
    assert.ok(leases(net).includes(ip.split('/')[0]!));
    cni(net, 'DEL', 'podA', orig);
    assert.ok(!leases(net).includes(ip.split('/')[0]!), 'the lease was released');
    assert.equal(bridgePorts(net).length, portsBefore - 1, "the pod's veth is gone from the bridge");
    removeNetns(orig); // containerd's NetNS.Remove: unmount, unlink
    assert.equal(existsSync(orig), false);
    assert.deepEqual(mountsBelow(orig), []);
    cni(net, 'DEL', 'podA', orig); // DEL again, path gone: still fine
  });

  it('gives the links back when they cannot be moved, and leaves containerd\'s namespace as it was', async () => {
    const orig = makeNetns(join(dir, 'podB'));
    const ip = String(cni(net, 'ADD', 'podB', orig)['ips'][0].address);
    const vnode = await usernsHolder();
    holders.push(vnode);
    // an eth0 already in the target: the kernel refuses the move (name taken)
    inUserns(vnode.pid, ['ip', 'link', 'add', 'eth0', 'type', 'bridge']);
    const origIno = netnsInode(orig);
    await assert.rejects(
      adoptPodNetwork({ sandboxId: 'podB', containerdNetns: orig, targetPid: vnode.pid, recordPath: join(dir, 'records', 'podB.json') }),
      (e: unknown) => e instanceof NetError && e.code === 'VNODE_NET_MOVE',
    );
    assert.equal(netnsInode(orig), origIno, 'containerd\'s mount is unchanged');
    const now = await captureNetns(orig);
    assert.ok(now.addrs.some((a) => a.dev === 'eth0' && `${a.local}/${a.prefixlen}` === ip), 'eth0 and its address are where CNI put them');
    assert.equal(readAdoptionRecord(join(dir, 'records', 'podB.json')), undefined, 'no record is left');
    cni(net, 'DEL', 'podB', orig);
    removeNetns(orig);
    vnode.kill();
  });

  it('undoes an adoption a manager died in the middle of (links moved, mount not yet replaced)', async () => {
    const orig = makeNetns(join(dir, 'podC'));
    const ip = String(cni(net, 'ADD', 'podC', orig)['ips'][0].address);
    const vnode = await usernsHolder();
    holders.push(vnode);
    const snapshot = await captureNetns(orig);
    await moveLinks({ from: orig, to: `/proc/${vnode.pid}/ns/net`, links: ['eth0'], snapshot });
    const recordPath = join(dir, 'records', 'podC.json');
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(join(dir, 'records'), { recursive: true });
    writeFileSync(recordPath, JSON.stringify({ version: 1, sandboxId: 'podC', containerdNetns: orig, targetPid: vnode.pid, targetNetns: statSync(`/proc/${vnode.pid}/ns/net`).ino, links: ['eth0'], snapshot, phase: 'moving' }));
    assert.equal(await recoverAdoption(recordPath), undefined);
    assert.equal(existsSync(recordPath), false);
    const now = await captureNetns(orig);
    assert.ok(now.addrs.some((a) => a.dev === 'eth0' && `${a.local}/${a.prefixlen}` === ip), 'eth0 is back with its address for CNI DEL');
    assert.ok(now.routes.some((r) => r.dst === 'default'), 'and its default route');
    cni(net, 'DEL', 'podC', orig);
    removeNetns(orig);
    vnode.kill();
  });
});
