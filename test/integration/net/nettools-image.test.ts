// The nettools test image (busybox + iproute2 + iptables from the host's Debian
// packages): its layer, unpacked and run with chroot in a network namespace of its
// own, has working ip (bridge, veth, addresses), iptables with the nft and legacy
// backends (NAT rules, extensions loaded), and nothing of it reaches the host.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { buildTar, listTar } from '../../../src/oci/image-tar.js';
import { netToolsImage, netToolsLayer } from '../../support/images.js';

const root = process.getuid?.() === 0;

describe('nettools image', { skip: root ? false : 'needs root: chroot, network namespaces' }, () => {
  const dir = mkdtempSync('/tmp/vnode-nettools-');
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('runs ip and iptables (nft and legacy) in a namespace of its own', () => {
    const tar = buildTar(netToolsLayer());
    const names = new Set(listTar(tar).map((e) => e.path));
    for (const p of ['usr/sbin/ip', 'usr/sbin/xtables-nft-multi', 'usr/sbin/iptables', 'usr/bin/busybox', 'bin', 'lib64']) assert.ok(names.has(p), `${p} in the layer`);
    const rootfs = join(dir, 'rootfs');
    execFileSync('mkdir', ['-p', rootfs]);
    writeFileSync(join(dir, 'layer.tar'), tar);
    execFileSync('tar', ['-x', '-f', join(dir, 'layer.tar'), '-C', rootfs]);
    const script = [
      'set -e',
      'mount -t proc proc /proc', // iptables-legacy-save lists tables from /proc/net (mount namespace of its own)
      'ip link add vnt-br0 type bridge',
      'ip link add vnt-a type veth peer name vnt-b',
      'ip link set vnt-a master vnt-br0',
      'ip addr add 10.123.0.1/24 dev vnt-br0',
      'ip -br link',
      'iptables -t nat -A POSTROUTING -s 10.123.0.0/24 -j MASQUERADE',
      'iptables -A FORWARD -p tcp --dport 80 -m conntrack --ctstate NEW -j ACCEPT',
      'iptables-save',
      'iptables-legacy -t nat -A POSTROUTING -s 10.124.0.0/24 -j MASQUERADE',
      'iptables-legacy-save',
      'iptables -V',
    ].join('\n');
    const out = execFileSync('unshare', ['--net', '--mount', 'chroot', rootfs, '/bin/sh', '-c', script], { encoding: 'utf8' });
    assert.match(out, /vnt-br0/);
    assert.match(out, /vnt-a@vnt-b/);
    assert.match(out, /-A POSTROUTING -s 10\.123\.0\.0\/24 -j MASQUERADE/);
    assert.match(out, /--ctstate NEW -j ACCEPT/);
    assert.match(out, /-A POSTROUTING -s 10\.124\.0\.0\/24 -j MASQUERADE/);
    assert.match(out, /nf_tables/);
    // nothing on the host
    assert.throws(() => execFileSync('ip', ['link', 'show', 'vnt-br0'], { stdio: 'ignore' }));
    for (const save of ['iptables-nft-save', 'iptables-legacy-save']) assert.doesNotMatch(execFileSync(save, { encoding: 'utf8' }), /10\.12[34]\.0\.0/);
  });

  it('is cached as an OCI archive', () => {
    const a = netToolsImage();
    assert.equal(a.ref, 'localhost/vnode-test/nettools:latest');
    assert.equal(netToolsImage().path, a.path, 'the same inputs give the cached archive');
  });
});
