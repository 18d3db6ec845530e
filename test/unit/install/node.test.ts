import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { InstallError, asConflist, configOfArgv, hostRoot, parseContainerdVersion, primaryNetwork, refuseOtherRuntimes, restartPlan, serviceUnit, unitOfCgroup, vnodeNetwork } from '../../../src/install/index.js';

describe('install: the node', () => {
  it('parses containerd --version of 1.6, 1.7 and 2.x', () => {
    assert.deepEqual(parseContainerdVersion('containerd github.com/containerd/containerd 1.6.20~ds1 1.6.20~ds1-1+deb12u3'), { text: '1.6.20~ds1', major: 1, minor: 6 });
    assert.deepEqual(parseContainerdVersion('containerd github.com/containerd/containerd v1.7.24 88bf19b'), { text: '1.7.24', major: 1, minor: 7 });
    assert.deepEqual(parseContainerdVersion('containerd github.com/containerd/containerd/v2 2.1.9+unknown '), { text: '2.1.9+unknown', major: 2, minor: 1 });
  });

  it('finds the config and the systemd unit of a containerd process', () => {
    assert.equal(configOfArgv(['/usr/bin/containerd']), '/etc/containerd/config.toml');
    assert.equal(configOfArgv(['containerd', '--config', '/x.toml']), '/x.toml');
    assert.equal(configOfArgv(['containerd', '-c=/y.toml', '--log-level', 'debug']), '/y.toml');
    assert.equal(unitOfCgroup('0::/system.slice/containerd.service\n'), 'containerd.service');
    assert.equal(unitOfCgroup('12:pids:/x\n1:name=systemd:/system.slice/k3s.service\n'), 'k3s.service');
    assert.equal(unitOfCgroup('0::/user.slice/session-1.scope\n'), undefined);
  });

  it('plans the restart: command, systemd (nsenter from a host root), re-exec, or refuses', () => {
    const proc = { pid: 42, exe: '/proc/42/exe', argv: ['containerd'], unit: 'containerd.service' };
    assert.deepEqual(restartPlan({ proc, command: 'rc-service containerd restart', h: hostRoot('/'), systemdRunning: true, sameMountNs: true }), { kind: 'command', command: 'rc-service containerd restart' });
    assert.deepEqual(restartPlan({ proc, h: hostRoot('/'), systemdRunning: true, sameMountNs: true }), { kind: 'systemd', unit: 'containerd.service', argv: ['systemctl', 'restart', 'containerd.service'] });
    assert.deepEqual((restartPlan({ proc, h: hostRoot('/host'), systemdRunning: true, sameMountNs: false }) as { argv: string[] }).argv.slice(0, 4), ['nsenter', '-t', '1', '-m']);
    assert.deepEqual(restartPlan({ proc: { ...proc, unit: undefined }, h: hostRoot('/'), systemdRunning: false, sameMountNs: true }), { kind: 'reexec', pid: 42 });
    assert.throws(() => restartPlan({ proc: { ...proc, unit: undefined }, h: hostRoot('/host'), systemdRunning: false, sameMountNs: false }), (e: InstallError) => e.code === 'RESTART');
    assert.equal(restartPlan({ h: hostRoot('/'), systemdRunning: true, sameMountNs: true }).kind, 'none');
  });

  it('refuses CRI-O, cri-dockerd and Docker Engine\'s containerd, saying why', () => {
    const root = mkdtempSync(join(tmpdir(), 'vnode-hr-'));
    try {
      const h = hostRoot(root);
      refuseOtherRuntimes(h, { version: 2 }, '/etc/containerd/config.toml');
      assert.throws(() => refuseOtherRuntimes(h, { version: 2, disabled_plugins: ['cri'] }, '/etc/containerd/config.toml'), (e: InstallError) => e.code === 'UNSUPPORTED_RUNTIME' && /disables containerd's CRI plugin/.test(e.message));
      mkdirSync(join(root, 'run/crio'), { recursive: true });
      writeFileSync(join(root, 'run/crio/crio.sock'), '');
      assert.throws(() => refuseOtherRuntimes(h, { version: 2 }, 'c'), (e: InstallError) => e.code === 'UNSUPPORTED_RUNTIME' && /CRI-O/.test(e.message) && /containerd 1\.6, 1\.7 and 2\.x only/.test(e.message));
      rmSync(join(root, 'run/crio'), { recursive: true });
      mkdirSync(join(root, 'var/lib/kubelet'), { recursive: true });
      writeFileSync(join(root, 'var/lib/kubelet/kubeadm-flags.env'), 'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///run/cri-dockerd.sock --pod-infra-container-image=x"\n');
      assert.throws(() => refuseOtherRuntimes(h, { version: 2 }, 'c'), (e: InstallError) => /cri-dockerd/.test(e.message));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('takes the first CNI file containerd would load and appends vnode-cni once', () => {
    const root = mkdtempSync(join(tmpdir(), 'vnode-hr-'));
    try {
      const dir = join(root, 'etc/cni/net.d');
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, '20-b.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'b', plugins: [{ type: 'bridge' }] }));
      writeFileSync(join(dir, '10-a.conf'), JSON.stringify({ cniVersion: '0.4.0', name: 'a', type: 'flannel', delegate: {} }));
      writeFileSync(join(dir, '05-readme.txt'), 'not a network');
      const p = primaryNetwork('/etc/cni/net.d', hostRoot(root))!;
      assert.equal(p.file, '/etc/cni/net.d/10-a.conf');
      const v = vnodeNetwork(asConflist(p.conflist));
      assert.deepEqual(v, { cniVersion: '0.4.0', name: 'a', plugins: [{ type: 'flannel', delegate: {} }, { type: 'vnode-cni', capabilities: { portMappings: true } }] });
      assert.deepEqual(vnodeNetwork(v), v);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('writes a vnode-manager unit that leaves pods running when it stops', () => {
    const u = serviceUnit({ prefix: '/opt/vnode', address: '/run/containerd/containerd.sock', ttrpcAddress: '/run/containerd/containerd.sock.ttrpc', containerdUnit: 'containerd.service' });
    assert.match(u, /^ExecStart=\/opt\/vnode\/bin\/vnode-manager$/m);
    assert.match(u, /^KillMode=process$/m);
    assert.match(u, /^Environment=VNODE_MANAGER_SOCKET=\/run\/vnode\/[0-9a-f]{12}\/manager\.sock$/m);
    assert.match(u, /^After=containerd\.service$/m);
    assert.match(u, /^Environment=VNODE_METRICS_ADDRESS=127\.0\.0\.1:9465$/m, 'the DaemonSet probes /healthz there');
    assert.match(u, /^Environment=VNODE_MANAGER_RESPAWN=false$/m, 'systemd restarts the manager, vnode-hold does not start another');
    assert.doesNotMatch(u, /VNODE_CNI_/);
    const c = serviceUnit({ prefix: '/opt/vnode', address: '/run/containerd/containerd.sock', ttrpcAddress: '/run/containerd/containerd.sock.ttrpc', containerdUnit: 'containerd.service', cni: { confDir: '/opt/vnode/etc/cni/net.d', binDirs: ['/opt/cni/bin'] } });
    assert.match(c, /^Environment=VNODE_CNI_CONF_DIR=\/opt\/vnode\/etc\/cni\/net\.d\nEnvironment=VNODE_CNI_BIN_DIRS=\/opt\/cni\/bin$/m, 'a hostNetwork pod\'s vNode joins the pod network with the vnode runtime\'s CNI chain');
  });
});
