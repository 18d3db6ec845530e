// What a vNode is, seen through CRI and from the host: its own ID range, shared by
// the pods of one namespace (or one per pod), its own PID and network namespaces,
// privileged/host* pods confined to it, and nothing left once its pods are gone.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { availableContainerdVersions } from '../../support/containerd.js';
import { TestPod, waitFor, withPod, type CriEnv } from '../../support/cri.js';
import { isAlive } from '../../../src/sys/index.js';
import { instanceDir, leasesOf, mountsBelow, parseUidMap, taskStateFiles, vnodeInitPids, vnodeRecords, vnodeSuite } from '../../support/vnode-host.js';
import { hostCgroupDir, pidsBelow } from '../../support/host-cgroups.js';

const version = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',')[0] ?? (availableContainerdVersions().includes('2') ? '2' : '1.7')) as '2' | '1.7';
const SLEEP = ['sleep', '3600'];

async function exec(env: CriEnv, cid: string, cmd: string[]): Promise<string> {
  const r = await env.cri.execSync(cid, cmd, 15);
  assert.equal(r.exit_code, 0, `${cmd.join(' ')} failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

async function uidMapOf(env: CriEnv, cid: string) {
  return parseUidMap(await exec(env, cid, ['cat', '/proc/self/uid_map']));
}

describe(`vNodes on containerd ${version}`, () => {
  const suite = vnodeSuite({ version });

  it('gives each namespace its own ID range and shares it between pods of a namespace', async () => {
    const a1 = await TestPod.run(suite.env, { namespace: 'team-a' });
    const a2 = await TestPod.run(suite.env, { namespace: 'team-a' });
    const b1 = await TestPod.run(suite.env, { namespace: 'team-b' });
    try {
      const [ca1, ca2, cb1] = await Promise.all([a1, a2, b1].map((p) => p.runContainer({ name: 'main', command: SLEEP })));
      for (const [p, c] of [[a1, ca1], [a2, ca2], [b1, cb1]] as const) await p.waitForState(c!, 'CONTAINER_RUNNING');
      assert.equal((await exec(suite.env, ca1!, ['id', '-u'])).trim(), '0');
      const [ma1, ma2, mb1] = (await Promise.all([ca1, ca2, cb1].map((c) => uidMapOf(suite.env, c!)))) as [Awaited<ReturnType<typeof uidMapOf>>, Awaited<ReturnType<typeof uidMapOf>>, Awaited<ReturnType<typeof uidMapOf>>];
      assert.equal(ma1.inside, 0);
      assert.ok(ma1.outside >= 65536, `host range starts at ${ma1.outside}`);
      assert.equal(ma1.size, 65536);
      assert.deepEqual(ma2, ma1, 'pods of one namespace share the vNode range');
      assert.ok(mb1.outside >= ma1.outside + 65536 || mb1.outside + 65536 <= ma1.outside, `ranges overlap: ${ma1.outside} and ${mb1.outside}`);
      const records = vnodeRecords(suite.ctd);
      assert.deepEqual(records.map((r) => r.key).sort(), ['ns/team-a', 'ns/team-b']);
      // the container's processes are unprivileged on the host
      const hostPids = pidsBelow(hostCgroupDir(String(a1.config.linux!.cgroup_parent!), 'pids')!);
      assert.ok(hostPids.length > 0, 'the pod cgroup holds the pod processes');
      for (const pid of hostPids) {
        const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1];
        assert.ok(Number(uid) >= 65536, `host pid ${pid} runs as host uid ${uid}`);
      }
    } finally {
      for (const p of [a1, a2, b1]) await p.remove();
    }
  });

  it('gives pods of one namespace that arrive together one vNode, and removes it once', async () => {
    const initsBefore = vnodeInitPids(suite.ctd);
    let range = 0;
    const pods = await Promise.all([1, 2, 3, 4].map(() => TestPod.run(suite.env, { namespace: 'together' })));
    try {
      const cids = await Promise.all(pods.map((p) => p.runContainer({ name: 'c', command: ['sh', '-c', 'echo hi; sleep 3600'] })));
      await Promise.all(pods.map((p, i) => p.waitForState(cids[i]!, 'CONTAINER_RUNNING')));
      const maps = await Promise.all(cids.map((c) => uidMapOf(suite.env, c)));
      assert.equal(new Set(maps.map((m) => m.outside)).size, 1, 'one range for the namespace');
      const recs = vnodeRecords(suite.ctd).filter((r) => r.key === 'ns/together');
      assert.equal(recs.length, 1, 'one vNode');
      range = recs[0]!.range.start;
      assert.equal(recs[0]!.members.length, 8, 'four sandboxes and four containers');
    } finally {
      await Promise.all(pods.map((p) => p.remove()));
    }
    assert.deepEqual(vnodeRecords(suite.ctd).filter((r) => r.key === 'ns/together'), []);
    assert.equal(leasesOf(suite.ctd).includes(String(range)), false, 'its ID range is given back');
    assert.deepEqual(vnodeInitPids(suite.ctd).filter((p) => !initsBefore.includes(p)), [], 'no vNode init left');
  });

  it('sees only its own processes in a normal pod, the whole vNode (and nothing else) in a hostPID pod', async () => {
    const other = await TestPod.run(suite.env, { namespace: 'vis-other' });
    const normal = await TestPod.run(suite.env, { namespace: 'vis' });
    const hostpid = await TestPod.run(suite.env, { namespace: 'vis', hostPID: true });
    try {
      const co = await other.runContainer({ name: 'o', command: ['sleep', '7777'] });
      const cn = await normal.runContainer({ name: 'n', command: ['sleep', '5555'] });
      const ch = await hostpid.runContainer({ name: 'h', command: ['sleep', '6666'] });
      for (const [p, c] of [[other, co], [normal, cn], [hostpid, ch]] as const) await p.waitForState(c, 'CONTAINER_RUNNING');
      const psNormal = await exec(suite.env, cn, ['ps', '-o', 'pid,args']);
      assert.match(psNormal, /^\s*1\s+sleep 5555$/m, psNormal);
      assert.doesNotMatch(psNormal, /sleep 6666|sleep 7777|containerd|vnode-init/, psNormal);
      const psHost = await exec(suite.env, ch, ['ps', '-o', 'pid,args']);
      assert.match(psHost, /sleep 5555/, 'hostPID sees the other pod of its vNode');
      assert.match(psHost, /sleep 6666/);
      assert.doesNotMatch(psHost, /sleep 7777/, "hostPID does not see another vNode's processes");
      assert.doesNotMatch(psHost, /containerd|vnode-manager/, 'hostPID does not see host processes');
      assert.match(psHost, /^\s*1\s/m, 'the vNode init is PID 1');
    } finally {
      for (const p of [other, normal, hostpid]) await p.remove();
    }
  });

  it('confines privileged + hostPID + hostNetwork + hostPath pods to the vNode', async () => {
    const marker = `vnode-test-${process.pid}-${Date.now()}`;
    const hostEtcBefore = readdirSync('/etc').sort();
    await withPod(suite.env, { namespace: 'priv', privileged: true, hostPID: true, hostNetwork: true }, async (pod) => {
      const cid = await pod.runContainer({
        name: 'p',
        command: SLEEP,
        privileged: true,
        mounts: [{ container_path: '/host-etc', host_path: '/etc' }],
      });
      await pod.waitForState(cid, 'CONTAINER_RUNNING');
      // all capabilities, inside the vNode's user namespace
      // every capability the host's root could hand out (this host's root lacks CAP_SYS_RESOURCE)
      const caps = await exec(suite.env, cid, ['sh', '-c', 'grep CapEff /proc/self/status']);
      const hostBounding = /^CapBnd:\s+([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))![1];
      assert.equal(caps.trim().split(/\s+/)[1], hostBounding);
      assert.ok((await uidMapOf(suite.env, cid)).outside >= 65536);
      // hostNetwork: the vNode's network namespace, no host interface: lo and the vNode's own
      // eth0 on the pod network (docs/networking.md), whose address is on the test bridge
      const links = await exec(suite.env, cid, ['ip', '-o', 'link']);
      const names = links.split('\n').filter(Boolean).map((l) => l.split(':')[1]!.trim().replace(/@.*$/, ''));
      assert.deepEqual(names, ['lo', 'eth0'], `interfaces: ${links}`);
      const addr = await exec(suite.env, cid, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']);
      assert.ok(addr.includes(` ${suite.ctd.subnet.replace(/0\/24$/, '')}`), `the vNode's eth0 is on ${suite.ctd.subnet}: ${addr}`);
      // hostPID: no host process visible
      const ps = await exec(suite.env, cid, ['ps', '-o', 'args']);
      assert.doesNotMatch(ps, /containerd|vnode-manager|node /);
      // no host devices beyond the defaults
      const devs = await exec(suite.env, cid, ['ls', '/dev']);
      assert.doesNotMatch(devs, /\bvda\b|\bsda\b|\bmem\b|\bkmsg\b/, devs);
      // hostPath /etc: the vNode's private /etc, not the host's
      await exec(suite.env, cid, ['sh', '-c', `echo owned > /host-etc/${marker} && ls /host-etc`]);
      const vnode = vnodeRecords(suite.ctd).find((r) => r.key === 'ns/priv')!;
      const privateEtc = join('/var/lib/vnode', instanceDir(suite.ctd).split('/').pop()!, 'vnodes', vnode.name, 'root', 'etc');
      assert.equal(readFileSync(join(privateEtc, marker), 'utf8'), 'owned\n');
      assert.equal(statSync(join(privateEtc, marker)).uid, vnode.range.start, 'written by the vNode root = its first host UID');
      assert.equal(existsSync(join('/etc', marker)), false, "the host's /etc is untouched");
      assert.deepEqual(readdirSync('/etc').sort(), hostEtcBefore);
      // a write to a host-wide sysctl is refused
      const sysctl = await suite.env.cri.execSync(cid, ['sh', '-c', 'echo 1 > /proc/sys/kernel/sysrq'], 10);
      assert.notEqual(sysctl.exit_code, 0);
    });
  });

  it('ID-maps kubelet and containerd pod files in place, and gives hostIPC the vNode IPC namespace', async () => {
    const uid = `idmap-${process.pid}-${Date.now()}`;
    const volume = join('/var/lib/kubelet/pods', uid, 'volumes/kubernetes.io~empty-dir/cache');
    mkdirSync(volume, { recursive: true });
    writeFileSync(join(volume, 'from-host'), 'kubelet wrote this\n');
    try {
      await withPod(suite.env, { namespace: 'files', hostIPC: true, uid }, async (pod) => {
        const cid = await pod.runContainer({ name: 'v', command: SLEEP, mounts: [{ container_path: '/cache', host_path: volume }] });
        await pod.waitForState(cid, 'CONTAINER_RUNNING');
        // host root's files are the vNode root's, not nobody's
        assert.equal((await exec(suite.env, cid, ['stat', '-c', '%u:%g', '/cache/from-host', '/etc/hosts', '/etc/resolv.conf', '/dev/shm'])).trim().split('\n').join(' '), '0:0 0:0 0:0 0:0');
        assert.equal(await exec(suite.env, cid, ['cat', '/cache/from-host']), 'kubelet wrote this\n');
        await exec(suite.env, cid, ['sh', '-c', 'echo pod wrote this > /cache/from-pod && echo 10.9.8.7 extra >> /etc/hosts']);
        // the real path, not a copy: what the pod writes is there on the host
        assert.equal(readFileSync(join(volume, 'from-pod'), 'utf8'), 'pod wrote this\n');
        const rec = vnodeRecords(suite.ctd).find((r) => r.key === 'ns/files')!;
        const inside = (await exec(suite.env, cid, ['readlink', '/proc/self/ns/ipc'])).trim();
        assert.equal(inside, readlinkSync(`/proc/${rec.initPid}/ns/ipc`), 'hostIPC joins the vNode IPC namespace');
        assert.notEqual(inside, readlinkSync('/proc/self/ns/ipc'), "never the host's");
      });
    } finally {
      rmSync(join('/var/lib/kubelet/pods', uid), { recursive: true, force: true });
    }
  });

  it('leaves no process, mount, cgroup, state file or ID range behind once its pods are removed', async () => {
    const initsBefore = vnodeInitPids(suite.ctd);
    const pod = await TestPod.run(suite.env, { namespace: 'leaks' });
    const cid = await pod.runContainer({ name: 'main', command: SLEEP });
    await pod.waitForState(cid, 'CONTAINER_RUNNING');
    const rec = vnodeRecords(suite.ctd).find((r) => r.key === 'ns/leaks');
    assert.ok(rec, 'the vNode exists while its pod runs');
    assert.ok(leasesOf(suite.ctd).includes(String(rec.range.start)));
    assert.ok(vnodeInitPids(suite.ctd).includes(rec.initPid));
    await pod.remove();
    assert.equal(vnodeRecords(suite.ctd).find((r) => r.key === 'ns/leaks'), undefined, 'vNode record removed');
    assert.equal(leasesOf(suite.ctd).includes(String(rec.range.start)), false, 'ID range given back');
    assert.equal(isAlive(rec.initPid, rec.initStartTime), false, 'vNode init gone');
    assert.deepEqual(vnodeInitPids(suite.ctd).filter((p) => !initsBefore.includes(p)), []);
    assert.deepEqual(mountsBelow(join(instanceDir(suite.ctd), 'mounts')), []);
    assert.deepEqual(taskStateFiles(suite.ctd), []);
    // containerd runs the shim's `delete` after each task it deleted (2.x in shim protocol 3:
    // after the sandbox only, and the manager leaves nothing for its containers); the C
    // front answers it from what the manager left, and takes it away.
    const tombstones = [pod.id, cid].map((id) => join(instanceDir(suite.ctd), 'deleted', 'k8s.io', id));
    await waitFor('tombstones consumed by the shim delete containerd runs', () => tombstones.every((f) => !existsSync(f)), 10_000);
    // The pod-level cgroup is kubelet's to remove (as with runc); the containers' own are ours.
    for (const ctrl of ['memory', 'pids', 'cpu']) {
      const podCg = hostCgroupDir(String(pod.config.linux!.cgroup_parent!), ctrl)!;
      const children = existsSync(podCg) ? readdirSync(podCg, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name) : [];
      assert.deepEqual(children, [], `container cgroups left in ${podCg}`);
    }
  });
});

describe(`per-pod vNodes (VNODE_PER_POD=true) on containerd ${version}`, () => {
  const suite = vnodeSuite({ version, env: { VNODE_PER_POD: 'true' } });

  it('gives two pods of one namespace distinct vNodes and ranges', async () => {
    const p1 = await TestPod.run(suite.env, { namespace: 'same' });
    const p2 = await TestPod.run(suite.env, { namespace: 'same' });
    try {
      const c1 = await p1.runContainer({ name: 'a', command: SLEEP });
      const c2 = await p2.runContainer({ name: 'b', command: SLEEP });
      await p1.waitForState(c1, 'CONTAINER_RUNNING');
      await p2.waitForState(c2, 'CONTAINER_RUNNING');
      const m1 = await uidMapOf(suite.env, c1);
      const m2 = await uidMapOf(suite.env, c2);
      assert.notEqual(m1.outside, m2.outside);
      assert.ok(Math.abs(m1.outside - m2.outside) >= 65536);
      assert.equal(vnodeRecords(suite.ctd).filter((r) => r.key.startsWith('pod/')).length, 2);
    } finally {
      await p1.remove();
      await p2.remove();
    }
    assert.deepEqual(vnodeRecords(suite.ctd), []);
  });
});
