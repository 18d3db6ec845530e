// vnode-cni's marker, between the real plugin (dist/vnode-cni, after the real bridge
// plugin's result) and the manager's check: ADD writes it for the sandbox's netns,
// the check accepts exactly that sandbox and path, DEL removes it (twice is fine), and
// ADD without a previous result is refused and leaves none.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { helperPath } from '../../../src/manager/helpers.js';
import { NetError, readCniMarker, requireVnodeCni, sweepCniMarkers } from '../../../src/net/index.js';

function vnodeCni(command: string, conf: Record<string, unknown>, env: Record<string, string>): { status: number | null; out: string } {
  const r = spawnSync(helperPath('vnode-cni'), { input: JSON.stringify(conf), encoding: 'utf8', env: { PATH: process.env.PATH, CNI_COMMAND: command, CNI_IFNAME: 'eth0', ...env } });
  return { status: r.status, out: r.stdout };
}

describe('vnode-cni marker', () => {
  const dir = mkdtempSync('/tmp/vnode-cni-marker-');
  after(() => rmSync(dir, { recursive: true, force: true }));
  const prevResult = { cniVersion: '1.0.0', interfaces: [{ name: 'eth0', sandbox: '/run/netns/x' }], ips: [{ address: '10.9.0.2/24', interface: 0 }] };
  const env = { CNI_CONTAINERID: 'sb1', CNI_NETNS: '/run/netns/cni-1234', CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=web' };

  it('ADD passes the result on and leaves a marker the manager accepts for that sandbox and netns only', () => {
    const r = vnodeCni('ADD', { cniVersion: '1.0.0', name: 'n', type: 'vnode-cni', stateDir: dir, prevResult }, env);
    assert.equal(r.status, 0, r.out);
    assert.deepEqual(JSON.parse(r.out), prevResult);
    assert.deepEqual(readCniMarker(dir, 'sb1'), { version: 1, containerId: 'sb1', netns: '/run/netns/cni-1234', ifname: 'eth0', podNamespace: 'team-a', podName: 'web' });
    assert.equal(requireVnodeCni(dir, 'sb1', '/run/netns/cni-1234').podName, 'web');
    assert.throws(() => requireVnodeCni(dir, 'sb1', '/run/netns/other'), (e: unknown) => e instanceof NetError && e.code === 'VNODE_NET_NO_VNODE_CNI');
    assert.throws(() => requireVnodeCni(dir, 'sb2', '/run/netns/cni-1234'), /was not set up by vnode-cni.*cni_conf_dir/);
  });

  it('DEL removes it, twice is fine; markers of vanished netns are swept', () => {
    assert.equal(vnodeCni('DEL', { cniVersion: '1.0.0', name: 'n', type: 'vnode-cni', stateDir: dir }, env).status, 0);
    assert.equal(readCniMarker(dir, 'sb1'), undefined);
    assert.equal(vnodeCni('DEL', { cniVersion: '1.0.0', name: 'n', type: 'vnode-cni', stateDir: dir }, env).status, 0);
    vnodeCni('ADD', { cniVersion: '1.0.0', name: 'n', type: 'vnode-cni', stateDir: dir, prevResult }, { ...env, CNI_CONTAINERID: 'sb3' });
    assert.deepEqual(sweepCniMarkers(dir), ['sb3'], '/run/netns/cni-1234 does not exist here');
    assert.deepEqual(readdirSync(dir), []);
  });

  it('refuses ADD without a previous result and writes nothing', () => {
    const r = vnodeCni('ADD', { cniVersion: '1.0.0', name: 'n', type: 'vnode-cni', stateDir: dir }, env);
    assert.equal(r.status, 1);
    assert.equal(JSON.parse(r.out).code, 7);
    assert.match(JSON.parse(r.out).msg, /no previous result/);
    assert.deepEqual(readdirSync(dir), []);
  });

  it('takes $VNODE_RUN_DIR/cni when the config names no stateDir', () => {
    const run = join(dir, 'run');
    assert.equal(vnodeCni('ADD', { cniVersion: '1.0.0', name: 'n', type: 'vnode-cni', prevResult }, { ...env, VNODE_RUN_DIR: run }).status, 0);
    assert.ok(readCniMarker(join(run, 'cni'), 'sb1'));
    execFileSync('rm', ['-rf', run]);
  });
});
