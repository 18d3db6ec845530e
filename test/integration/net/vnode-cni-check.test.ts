// CNI CHECK of vnode-cni (native/vnode-cni.c), as root, with real components.
// 1. Against namespaces this test makes: a namespace of a user namespace (adopted, as
//    the manager leaves a pod's) bind-mounted like containerd's path, with a veth eth0:
//    CHECK passes, and each thing it verifies gives its own CNI error when broken
//    (version, prevResult, unknown container, other netns, not adopted, MAC, down,
//    address, interface gone).
// 2. Through CRI on a real containerd: a vnode pod's real chain (bridge + host-local +
//    vnode-cni, the conflist, CNI_ARGS and result containerd cached at ADD) passes CHECK;
//    without the marker it fails at vnode-cni; after its eth0 is broken in the pod's
//    actual namespace the chain fails (at bridge, which checks its own addresses and
//    link first) and vnode-cni on its own says exactly what is missing; an unknown
//    container ID fails clearly.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { helperPath } from '../../../src/manager/helpers.js';
import { cniCheck, CniPluginError, cniMarkerDir, netnsInode, readCniMarker, type CniConfList, type CniRuntime } from '../../../src/net/index.js';
import { availableContainerdVersions, type ContainerdVersion } from '../../support/containerd.js';
import { TestPod } from '../../support/cri.js';
import { inNetns, makeNetns, removeNetns, usernsHolder } from '../../support/netns.js';
import { vnodeSuite } from '../../support/vnode-host.js';

const root = process.getuid?.() === 0;
const RECREATE = "the pod's network is no longer what CNI ADD set up; delete the pod so that its controller makes a new one (or remove and run the sandbox again)";

interface CniOut { status: number | null; out: string; err?: { cniVersion: string; code: number; msg: string; details: string } }

function vnodeCni(command: string, conf: Record<string, unknown>, env: Record<string, string>): CniOut {
  const r = spawnSync(helperPath('vnode-cni'), { input: JSON.stringify(conf), encoding: 'utf8', env: { PATH: process.env.PATH, CNI_COMMAND: command, CNI_IFNAME: 'eth0', ...env } });
  return { status: r.status, out: r.stdout, ...(r.status !== 0 && r.stdout.trim() ? { err: JSON.parse(r.stdout) } : {}) };
}

function macOf(netns: string, dev: string): string {
  return (JSON.parse(inNetns(netns, ['ip', '-j', 'link', 'show', 'dev', dev])) as { address: string }[])[0]!.address;
}

describe('vnode-cni CHECK (namespaces made here)', { skip: root ? false : 'needs root: namespaces, mounts, links' }, () => {
  let dir: string;
  let pod: string; // the "adopted" namespace, bind-mounted as containerd's path is after adoption
  let hostOwned: string;
  let holder: { kill(): boolean; pid: number };
  let conf: Record<string, unknown>;
  const env = (id: string, netns: string) => ({ CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=team-a;K8S_POD_NAME=web' });

  before(async () => {
    dir = mkdtempSync('/run/vnode-cni-check-');
    holder = await usernsHolder();
    pod = join(dir, 'pod');
    closeSync(openSync(pod, 'w'));
    execFileSync('mount', ['--bind', `/proc/${holder.pid}/ns/net`, pod]);
    inNetns(pod, ['ip', 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'peer0']); // no dummy module here
    inNetns(pod, ['ip', 'addr', 'add', '10.99.0.2/24', 'dev', 'eth0']);
    inNetns(pod, ['ip', 'link', 'set', 'eth0', 'up']);
    hostOwned = makeNetns(join(dir, 'host-owned'));
    const prevResult = {
      cniVersion: '1.0.0',
      interfaces: [{ name: 'br0', mac: '02:00:00:00:00:01' }, { name: 'eth0', mac: macOf(pod, 'eth0'), sandbox: pod }],
      ips: [{ address: '10.99.0.1/24', interface: 0 }, { address: '10.99.0.2/24', gateway: '10.99.0.1', interface: 1 }],
    };
    conf = { cniVersion: '1.0.0', name: 'n', type: 'vnode-cni', stateDir: dir, prevResult };
    assert.equal(vnodeCni('ADD', conf, env('sb1', pod)).status, 0);
    assert.equal(vnodeCni('ADD', conf, env('sb2', hostOwned)).status, 0);
  });

  after(() => {
    holder?.kill();
    for (const f of ['pod', 'host-owned']) removeNetns(join(dir, f));
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes for the adopted interface: nothing on stdout, exit 0', () => {
    assert.deepEqual(vnodeCni('CHECK', conf, env('sb1', pod)), { status: 0, out: '' });
  });

  it('refuses what the spec does not allow: a version before 0.4.0, no prevResult, missing variables', () => {
    const old = vnodeCni('CHECK', { ...conf, cniVersion: '0.3.1' }, env('sb1', pod));
    assert.equal(old.status, 1);
    assert.deepEqual(old.err, { cniVersion: '0.3.1', code: 1, msg: 'vnode-cni: CHECK needs cniVersion 0.4.0 or later, the network configuration says 0.3.1', details: '' });
    const { prevResult: _, ...bare } = conf;
    assert.equal(vnodeCni('CHECK', bare, env('sb1', pod)).err?.code, 7);
    assert.equal(vnodeCni('CHECK', conf, { CNI_CONTAINERID: 'sb1' }).err?.code, 4);
  });

  it('an unknown container, another netns, a namespace not adopted yet', () => {
    const unknown = vnodeCni('CHECK', conf, env('nope', pod));
    assert.deepEqual(unknown.err, {
      cniVersion: '1.0.0',
      code: 3,
      msg: `vnode-cni: container nope is unknown: no marker ${dir}/nope.json (its ADD did not run through this chain, or DEL already ran)`,
      details: "CHECK only a container that ADD attached through the vnode runtime's chain and DEL has not detached",
    });
    const other = vnodeCni('CHECK', conf, env('sb1', hostOwned));
    assert.equal(other.err?.code, 100);
    assert.equal(other.err?.msg, `vnode-cni: container sb1 was attached with interface eth0 in ${pod}, CHECK asks for eth0 in ${hostOwned}`);
    const notYet = vnodeCni('CHECK', conf, env('sb2', hostOwned));
    assert.equal(notYet.err?.code, 11, 'try again later: the manager adopts it at sandbox create');
    assert.equal(notYet.err?.msg, `vnode-cni: the network of container sb2 (${hostOwned}) is not adopted by its vNode yet`);
  });

  it('another MAC, the interface down, an address gone, the interface gone: each says what', () => {
    const mac = macOf(pod, 'eth0');
    inNetns(pod, ['ip', 'link', 'set', 'eth0', 'address', '02:11:22:33:44:55']);
    assert.deepEqual(vnodeCni('CHECK', conf, env('sb1', pod)).err, {
      cniVersion: '1.0.0', code: 102, msg: `vnode-cni: interface eth0 of container sb1 has MAC 02:11:22:33:44:55, not ${mac}: it is not the interface ADD made`, details: RECREATE,
    });
    inNetns(pod, ['ip', 'link', 'set', 'eth0', 'address', mac]);
    inNetns(pod, ['ip', 'link', 'set', 'eth0', 'down']);
    assert.deepEqual(vnodeCni('CHECK', conf, env('sb1', pod)).err, { cniVersion: '1.0.0', code: 103, msg: 'vnode-cni: interface eth0 of container sb1 is down', details: RECREATE });
    inNetns(pod, ['ip', 'link', 'set', 'eth0', 'up']);
    inNetns(pod, ['ip', 'addr', 'del', '10.99.0.2/24', 'dev', 'eth0']);
    inNetns(pod, ['ip', 'addr', 'add', '10.99.0.2/25', 'dev', 'eth0']);
    assert.deepEqual(vnodeCni('CHECK', conf, env('sb1', pod)).err, { cniVersion: '1.0.0', code: 104, msg: 'vnode-cni: interface eth0 of container sb1 lacks address 10.99.0.2/24', details: RECREATE }, 'the prefix counts');
    inNetns(pod, ['ip', 'addr', 'flush', 'dev', 'eth0']);
    inNetns(pod, ['ip', 'addr', 'add', '10.99.0.2/24', 'dev', 'eth0']);
    assert.equal(vnodeCni('CHECK', conf, env('sb1', pod)).status, 0, 'in place again');
    inNetns(pod, ['ip', 'link', 'set', 'eth0', 'name', 'eth9']);
    assert.deepEqual(vnodeCni('CHECK', conf, env('sb1', pod)).err, { cniVersion: '1.0.0', code: 101, msg: `vnode-cni: interface eth0 of container sb1 is missing from its network namespace ${pod}`, details: RECREATE });
  });

  it('after DEL the container is unknown', () => {
    assert.equal(vnodeCni('DEL', conf, env('sb1', pod)).status, 0);
    assert.equal(vnodeCni('CHECK', conf, env('sb1', pod)).err?.code, 3);
  });
});

// One containerd version: containerd never runs CHECK itself, so versions differ in nothing CHECK sees.
const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions().filter((v) => v !== '1.6')) as ContainerdVersion[];
const version = versions.includes('2') ? '2' : versions[0];

/** What libcni cached at the sandbox's ADD (/var/lib/cni/results): the conflist, CNI_ARGS, capability args and result. */
function cachedAttachment(sandboxId: string): { list: CniConfList; args: Record<string, string>; capabilityArgs: Record<string, unknown>; result: unknown } {
  const dir = '/var/lib/cni/results';
  const file = readdirSync(dir).find((f) => f.endsWith(`-${sandboxId}-eth0`));
  assert.ok(file, `libcni's cached result for ${sandboxId} in ${dir}`);
  const c = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { config: string; cniArgs: [string, string][]; capabilityArgs: Record<string, unknown>; result: unknown };
  const list = JSON.parse(Buffer.from(c.config, 'base64').toString('utf8')) as CniConfList;
  return { list, args: Object.fromEntries(c.cniArgs), capabilityArgs: c.capabilityArgs, result: c.result };
}

/** The CniPluginError a CHECK rejects with. */
async function checkFails(list: CniConfList, rt: CniRuntime, result: unknown): Promise<CniPluginError> {
  try {
    await cniCheck(list, rt, result);
  } catch (e) {
    assert.ok(e instanceof CniPluginError, String(e));
    return e;
  }
  assert.fail('CHECK passed');
}

describe(`vnode-cni CHECK of a vnode pod through CRI (containerd ${version})`, { skip: !root ? 'needs root: containerd, CNI' : !version ? 'no containerd' : false }, () => {
  const suite = vnodeSuite({ version: version! });

  it("the pod's real chain passes CHECK; a broken eth0 in the pod's namespace fails it with vnode-cni's reason; an unknown ID fails", async () => {
    const pod = await TestPod.run(suite.env, { namespace: 'net-check', name: 'web' });
    try {
      const marker = readCniMarker(cniMarkerDir(), pod.id);
      assert.ok(marker, 'vnode-cni left its marker at ADD');
      const netns = marker.netns;
      const { list, args, capabilityArgs, result } = cachedAttachment(pod.id);
      assert.deepEqual(list.plugins.map((p) => p['type']), ['bridge', 'vnode-cni'], "the vnode runtime's chain");
      const rt: CniRuntime = { containerId: pod.id, netns, ifName: 'eth0', args, capabilityArgs, binDirs: [join(dirname(suite.ctd.cniConfDir), 'bin')] };
      const vnodeOnly: CniConfList = { ...list, plugins: list.plugins.filter((p) => p['type'] === 'vnode-cni') };

      // adopted: containerd's path names a namespace the vNode's user namespace owns, and the chain agrees
      const owner = Number(execFileSync('lsns', ['-n', '-t', 'net', '-o', 'ONS', '--task', String(pausePid(netns))], { encoding: 'utf8' }).trim());
      assert.notEqual(owner, statSync('/proc/self/ns/user').ino, "the pod's netns is not the host user namespace's");
      await cniCheck(list, rt, result);

      // unknown container: the chain fails at bridge (its host-local has no lease for it); vnode-cni on its own says why too
      const unknownId = 'f'.repeat(64);
      assert.match((await checkFails(list, { ...rt, containerId: unknownId }, result)).message, /plugin bridge .*host-local: Failed to find address added by container f+$/);
      const unknown = await checkFails(vnodeOnly, { ...rt, containerId: unknownId }, result);
      assert.equal(unknown.cni?.code, 3);
      assert.equal(unknown.cni?.msg, `vnode-cni: container ${unknownId} is unknown: no marker ${cniMarkerDir()}/${unknownId}.json (its ADD did not run through this chain, or DEL already ran)`);

      // the marker gone (as if DEL had run): bridge and host-local pass, the chain fails at vnode-cni
      const markerPath = join(cniMarkerDir(), `${pod.id}.json`);
      renameSync(markerPath, `${markerPath}.away`);
      const noMarker = await checkFails(list, rt, result).finally(() => renameSync(`${markerPath}.away`, markerPath));
      assert.equal(noMarker.plugin, 'vnode-cni', noMarker.message);
      assert.equal(noMarker.cni?.code, 3);
      await cniCheck(list, rt, result);

      // eth0's address removed from inside the pod's namespace (the one its pause process is in)
      const ip = (result as { ips: { address: string }[] }).ips[0]!.address;
      inNetns(netns, ['ip', 'addr', 'del', ip, 'dev', 'eth0']);
      assert.match((await checkFails(list, rt, result)).message, new RegExp(`plugin bridge .*Failed to match addr ${ip} on interface eth0`), 'bridge checks its addresses first');
      const noAddr = await checkFails(vnodeOnly, rt, result);
      assert.deepEqual(noAddr.cni, { code: 104, msg: `vnode-cni: interface eth0 of container ${pod.id} lacks address ${ip}`, details: RECREATE });

      // and renamed: gone under its name
      inNetns(netns, ['ip', 'link', 'set', 'eth0', 'down']);
      inNetns(netns, ['ip', 'link', 'set', 'eth0', 'name', 'gone0']);
      assert.match((await checkFails(list, rt, result)).message, /plugin bridge .*Interface name eth0 not found/);
      const noLink = await checkFails(vnodeOnly, rt, result);
      assert.deepEqual(noLink.cni, { code: 101, msg: `vnode-cni: interface eth0 of container ${pod.id} is missing from its network namespace ${netns}`, details: RECREATE });
      assert.match(noLink.message, /^CNI CHECK of plugin vnode-cni \(network [^)]+\) failed: CNI error 101: vnode-cni: interface eth0 .* is missing/);
    } finally {
      await pod.remove();
    }
    assert.equal(readCniMarker(cniMarkerDir(), pod.id), undefined, 'DEL removed the marker');
  });
});

/** A process in the namespace at `netns` (the pod's pause), found by inode. */
function pausePid(netns: string): number {
  const ino = netnsInode(netns);
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (statSync(`/proc/${p}/ns/net`).ino === ino) return Number(p);
    } catch {
      /* gone */
    }
  }
  assert.fail(`no process in ${netns}`);
}
