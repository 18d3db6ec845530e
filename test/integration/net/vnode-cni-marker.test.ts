// vnode-cni's marker, between the real plugin (dist/vnode-cni, after the real bridge
// plugin's result) and the manager's check: ADD writes it for the sandbox's netns,
// the check accepts exactly that sandbox and path, DEL removes it (twice is fine), and
// ADD without a previous result is refused and leaves none. With CNI 1.1.0, GC removes
// the markers of this network that the runtime's valid attachments no longer list (and
// the temp file of a dead ADD), STATUS says whether ADD could write one, and both are
// refused for older versions.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, writeFileSync } from 'node:fs';
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
    assert.deepEqual(readCniMarker(dir, 'sb1'), { version: 1, containerId: 'sb1', network: 'n', netns: '/run/netns/cni-1234', ifname: 'eth0', podNamespace: 'team-a', podName: 'web' });
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

  it('GC (CNI 1.1.0) removes the markers of this network that valid-attachments does not list, and dead ADDs\' temp files', () => {
    const add = (id: string, network = 'n') => assert.equal(vnodeCni('ADD', { cniVersion: '1.1.0', name: network, type: 'vnode-cni', stateDir: dir, prevResult }, { ...env, CNI_CONTAINERID: id }).status, 0);
    for (const id of ['keep', 'gone', 'other-if']) add(id);
    add('foreign', 'another-network');
    writeFileSync(join(dir, 'old.json'), JSON.stringify({ version: 1, containerId: 'old', netns: '/run/netns/x', ifname: 'eth0', podNamespace: 'a', podName: 'b' }));
    writeFileSync(join(dir, 'dead.json.999999999.tmp'), '{');
    writeFileSync(join(dir, `live.json.${process.pid}.tmp`), '{');
    const gc = (conf: Record<string, unknown>) => vnodeCni('GC', { cniVersion: '1.1.0', name: 'n', type: 'vnode-cni', stateDir: dir, ...conf }, {});
    const refused = gc({});
    assert.equal(refused.status, 1);
    assert.equal(JSON.parse(refused.out).code, 7);
    assert.match(JSON.parse(refused.out).msg, /GC without cni\.dev\/valid-attachments/);
    assert.equal(readdirSync(dir).length, 7, 'nothing removed without the list');
    const r = gc({ 'cni.dev/valid-attachments': [{ containerID: 'keep', ifname: 'eth0' }, { containerID: 'other-if', ifname: 'eth1' }] });
    assert.equal(r.status, 0, r.out);
    assert.equal(r.out, '', 'GC prints nothing on success');
    assert.deepEqual(readdirSync(dir).sort(), ['foreign.json', 'keep.json', `live.json.${process.pid}.tmp`],
      'gone (not listed), other-if (listed with another interface) and old (no network name: this one\'s) removed; another network\'s marker and a live ADD\'s temp file kept');
    assert.equal(gc({ 'cni.dev/valid-attachments': [] }).status, 0);
    assert.deepEqual(readdirSync(dir).sort(), ['foreign.json', `live.json.${process.pid}.tmp`]);
    rmSync(join(dir, 'foreign.json'));
    rmSync(join(dir, `live.json.${process.pid}.tmp`));
    assert.equal(vnodeCni('GC', { cniVersion: '1.1.0', name: 'n', type: 'vnode-cni', stateDir: join(dir, 'never-made'), 'cni.dev/valid-attachments': [] }, {}).status, 0, 'no state directory: nothing to collect');
  });

  it('STATUS (CNI 1.1.0) is ready when the state directory can be written, else code 50 naming it; GC and STATUS need 1.1.0; VERSION lists it', () => {
    const ok = vnodeCni('STATUS', { cniVersion: '1.1.0', name: 'n', type: 'vnode-cni', stateDir: join(dir, 'status') }, {});
    assert.equal(ok.status, 0, ok.out);
    assert.equal(ok.out, '');
    writeFileSync(join(dir, 'a-file'), '');
    const bad = vnodeCni('STATUS', { cniVersion: '1.1.0', name: 'n', type: 'vnode-cni', stateDir: join(dir, 'a-file', 'cni') }, {});
    assert.equal(bad.status, 1);
    const e = JSON.parse(bad.out) as { code: number; msg: string; details: string };
    assert.equal(e.code, 50);
    assert.equal(e.msg, `vnode-cni: cannot write its state directory ${join(dir, 'a-file', 'cni')}: Not a directory`);
    assert.match(e.details, /refuses pods without that record/);
    for (const cmd of ['GC', 'STATUS']) {
      const old = vnodeCni(cmd, { cniVersion: '1.0.0', name: 'n', type: 'vnode-cni', stateDir: dir, 'cni.dev/valid-attachments': [] }, {});
      assert.equal(old.status, 1);
      assert.deepEqual([JSON.parse(old.out).code, JSON.parse(old.out).msg], [1, `vnode-cni: ${cmd} needs cniVersion 1.1.0 or later, the network configuration says 1.0.0`]);
    }
    const unknown = vnodeCni('FROB', { cniVersion: '1.1.0', name: 'n', type: 'vnode-cni', stateDir: dir }, {});
    assert.deepEqual([unknown.status, JSON.parse(unknown.out).code, JSON.parse(unknown.out).msg], [1, 4, 'vnode-cni: unknown CNI_COMMAND FROB']);
    const v = JSON.parse(vnodeCni('VERSION', {}, {}).out) as { supportedVersions: string[] };
    assert.deepEqual(v.supportedVersions, ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0']);
    rmSync(join(dir, 'a-file'));
    rmSync(join(dir, 'status'), { recursive: true });
  });
});
