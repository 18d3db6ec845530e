// Pod networking through CRI (issue 9), on a real containerd with real CNI plugins: a
// vnode pod keeps the network CNI gave it (eth0, the PodSandboxStatus IP, routes) in a
// namespace its vNode owns; TCP and UDP work to vnode pods of other vNodes and to runc
// pods; a host DNAT rule standing in for a Service reaches one; PortForward works;
// hostNetwork pods share their vNode's own namespace and IP; a privileged pod's bridge,
// veth and NAT rules stay in its namespace; Stop/Remove leave nothing, also after the
// manager was killed; per-pod vNodes behave the same; a containerd whose vnode runtime
// has no vnode-cni chain gets its vnode pods refused. Traffic goes only to addresses
// of this machine's test bridge (and a blackholed 10.96.x.y standing in for a Service).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { availableContainerdVersions, type ContainerdVersion } from '../../support/containerd.js';
import { criEnv, CriError, TestPod, waitFor, withPod, type CriEnv, type PodSpec } from '../../support/cri.js';
import { importNetToolsImage, NETTOOLS_IMAGE } from '../../support/images.js';
import { portForwardOnce } from '../../support/portforward.js';
import { instanceDir, managerPid, mountsBelow, vnodeRecords, vnodeSuite } from '../../support/vnode-host.js';
import { runtimesOf } from '../../../src/install/containerd-config.js';
import { isAlive } from '../../../src/sys/index.js';

const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions().filter((v) => v !== '1.6')) as ContainerdVersion[];
const TCP = 0;

/** Two servers: TCP 7000 and UDP 7001 answer "tcp-<POD>" / "udp-<POD>" to whoever connects. */
const SERVERS = ['sh', '-c', "socat TCP-LISTEN:7000,fork,reuseaddr SYSTEM:'echo tcp-$POD' & socat UDP-RECVFROM:7001,fork SYSTEM:'echo udp-$POD' & wait"];

async function sh(env: CriEnv, cid: string, script: string): Promise<string> {
  const r = await env.cri.execSync(cid, ['sh', '-c', script], 20);
  assert.equal(r.exit_code, 0, `${script} failed (${r.exit_code}): ${r.stderr.toString()}${r.stdout.toString()}`);
  return r.stdout.toString();
}

/** A pod with the two servers; returns the pod, its container and its eth0 address. */
async function serverPod(env: CriEnv, spec: PodSpec, name: string): Promise<{ pod: TestPod; cid: string }> {
  const pod = await TestPod.run(env, spec);
  try {
    const cid = await pod.runContainer({ name: 'srv', image: NETTOOLS_IMAGE, command: SERVERS, env: { POD: name } });
    await pod.waitForState(cid, 'CONTAINER_RUNNING');
    return { pod, cid };
  } catch (e) {
    await pod.remove();
    throw e;
  }
}

async function eth0Addr(env: CriEnv, cid: string): Promise<string | undefined> {
  const a = JSON.parse(await sh(env, cid, 'ip -j -4 addr show dev eth0')) as { addr_info: { local: string }[] }[];
  return a[0]?.addr_info[0]?.local;
}

async function statusIp(env: CriEnv, pod: TestPod): Promise<string> {
  const s = (await env.cri.podSandboxStatus(pod.id)) as { status?: { network?: { ip?: string } } };
  return s.status?.network?.ip ?? '';
}

/** TCP and UDP from `cid` to the servers at `ip`: what they answer (retried while the servers start). */
async function talk(env: CriEnv, cid: string, ip: string): Promise<{ tcp: string; udp: string }> {
  const tcp = await waitFor(`tcp to ${ip}`, async () => {
    const r = await env.cri.execSync(cid, ['sh', '-c', `socat -t 3 -T 5 STDIO TCP:${ip}:7000,connect-timeout=3 </dev/null`], 15);
    return r.exit_code === 0 && r.stdout.toString().trim() ? r.stdout.toString().trim() : undefined;
  }, 20_000, 300);
  const udp = await waitFor(`udp to ${ip}`, async () => {
    const r = await env.cri.execSync(cid, ['sh', '-c', `echo ping | socat -t 2 -T 3 STDIO UDP:${ip}:7001`], 15);
    return r.exit_code === 0 && r.stdout.toString().trim() ? r.stdout.toString().trim() : undefined;
  }, 20_000, 300);
  return { tcp, udp };
}

function hostLinks(): string[] {
  return (JSON.parse(execFileSync('ip', ['-j', 'link'], { encoding: 'utf8' })) as { ifname: string }[]).map((l) => l.ifname);
}

function bridgePorts(bridge: string): string[] {
  if (!hostLinks().includes(bridge)) return []; // made with the first pod
  return (JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'master', bridge], { encoding: 'utf8' }) || '[]') as { ifname: string }[]).map((l) => l.ifname).sort();
}

function ipLeases(dir: string): string[] {
  const ipam = join(dir, 'cni', 'ipam');
  return existsSync(ipam) ? readdirSync(ipam, { recursive: true, encoding: 'utf8' }).filter((f) => /\d+\.\d+\.\d+\.\d+$/.test(f)).sort() : [];
}

/** containerd's netns files, the manager's adoption records, vNode network records. */
function netState(ctdState: string, inst: string): { netns: string[]; records: string[] } {
  const netns = readdirSync(ctdState, { recursive: true, encoding: 'utf8' }).filter((f) => /(^|\/)cni-[0-9a-f-]+$/.test(f));
  const recDir = join(inst, 'state', 'net');
  const records = existsSync(recDir) ? readdirSync(recDir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.json')) : [];
  return { netns: netns.sort(), records: records.sort() };
}

/** What must be the same before and after pods came and went. */
function snapshot(env: { ctd: import('../../support/containerd.js').ContainerdInstance }) {
  const ctd = env.ctd;
  return {
    leases: ipLeases(ctd.dir),
    ports: bridgePorts(ctd.bridge),
    mounts: mountsBelow(ctd.dir).sort(),
    managerMounts: mountsBelow(instanceDir(ctd)).filter((m) => !m.includes('/vnodefs')).sort(),
    ...netState(ctd.state, instanceDir(ctd)),
  };
}

for (const version of versions) {
  describe(`pod network through CRI (containerd ${version})`, () => {
    const suite = vnodeSuite({ version });
    before(async () => {
      await importNetToolsImage(suite.ctd.ctr);
    });

    it('eth0 has the PodSandboxStatus IP; DNS and hosts from CRI; TCP and UDP to a vnode pod of another vNode and to a runc pod, both ways', async () => {
      const runc = criEnv(suite.ctd, 'runc');
      const uid = `${randomBytes(4).toString('hex')}-0000-4000-8000-000000000000`;
      const kubeletDir = join('/var/lib/kubelet/pods', uid);
      mkdirSync(kubeletDir, { recursive: true });
      // kubelet's own /etc/hosts for the pod, with a hostAlias, mounted into the container
      writeFileSync(join(kubeletDir, 'etc-hosts'), '127.0.0.1\tlocalhost\n10.0.0.42\talias-a.example\n');
      const a = await serverPod(suite.env, { namespace: 'net-a', name: 'web-a', uid, hostname: 'web-a', dns: { servers: ['10.0.0.10'], searches: ['net-a.svc.cluster.local'], options: ['ndots:5'] } }, 'a');
      const pods = [a.pod];
      try {
        const b = await serverPod(suite.env, { namespace: 'net-b' }, 'b');
        pods.push(b.pod);
        const r = await serverPod(runc, { namespace: 'net-r' }, 'r');
        pods.push(r.pod);
        const ips: Record<string, string> = {};
        for (const [n, p] of [['a', a], ['b', b], ['r', r]] as const) {
          const env = n === 'r' ? runc : suite.env;
          const ip = await statusIp(env, p.pod);
          assert.ok(ip.startsWith(suite.ctd.subnet.replace(/0\/24$/, '')), `pod ${n}: IP ${ip} in ${suite.ctd.subnet}`);
          assert.equal(await eth0Addr(env, p.cid), ip, `pod ${n}: PodSandboxStatus IP is the address on eth0`);
          const route = JSON.parse(await sh(env, p.cid, 'ip -j route show default')) as { gateway?: string; dev?: string }[];
          assert.equal(route[0]?.dev, 'eth0', `pod ${n}: a default route through eth0`);
          ips[n] = ip;
        }
        // the vnode pods' eth0 lives in a namespace of their vNode's user namespace, not the host's
        const ownerOf = async (cid: string) => (await sh(suite.env, cid, 'cat /proc/self/uid_map')).trim().split(/\s+/)[1];
        assert.notEqual(await ownerOf(a.cid), '0', 'pod a runs in a user namespace of its own');
        assert.notEqual(await ownerOf(a.cid), await ownerOf(b.cid), 'a and b are in different vNodes');
        // what CRI asked for
        const resolv = await sh(suite.env, a.cid, 'cat /etc/resolv.conf');
        assert.match(resolv, /^nameserver 10\.0\.0\.10$/m);
        assert.match(resolv, /^search net-a\.svc\.cluster\.local$/m);
        assert.match(resolv, /^options ndots:5$/m);
        assert.equal((await sh(suite.env, a.cid, 'hostname')).trim(), 'web-a');
        const hostsPod = await TestPod.run(suite.env, { namespace: 'net-a', name: 'hosts', uid });
        pods.push(hostsPod);
        const hc = await hostsPod.runContainer({ name: 'c', image: NETTOOLS_IMAGE, command: ['sleep', '3600'], mounts: [{ container_path: '/etc/hosts', host_path: join(kubeletDir, 'etc-hosts') }] });
        await hostsPod.waitForState(hc, 'CONTAINER_RUNNING');
        assert.match(await sh(suite.env, hc, 'cat /etc/hosts'), /^10\.0\.0\.42\talias-a\.example$/m);

        assert.deepEqual(await talk(suite.env, a.cid, ips['b']!), { tcp: 'tcp-b', udp: 'udp-b' }, 'vnode pod a → vnode pod b (other vNode)');
        assert.deepEqual(await talk(suite.env, b.cid, ips['a']!), { tcp: 'tcp-a', udp: 'udp-a' }, 'vnode pod b → vnode pod a');
        assert.deepEqual(await talk(suite.env, a.cid, ips['r']!), { tcp: 'tcp-r', udp: 'udp-r' }, 'vnode pod → runc pod');
        assert.deepEqual(await talk(runc, r.cid, ips['a']!), { tcp: 'tcp-a', udp: 'udp-a' }, 'runc pod → vnode pod');
      } finally {
        for (const p of pods.reverse()) await p.remove();
        rmSync(kubeletDir, { recursive: true, force: true });
      }
    });

    it('a host DNAT rule standing in for a Service IP reaches a vnode pod; PortForward reaches one', async () => {
      const a = await serverPod(suite.env, { namespace: 'svc-client' }, 'a');
      const b = await serverPod(suite.env, { namespace: 'svc-backend' }, 'b');
      const svc = `10.96.${1 + (randomBytes(1)[0]! % 250)}.${1 + (randomBytes(1)[0]! % 250)}`;
      const tag = `vnode-test-${suite.ctd.id}`;
      const rules: string[][] = [];
      try {
        const ipB = await statusIp(suite.env, b.pod);
        // a blackhole for the Service address: whatever the rules do not catch stays here
        execFileSync('ip', ['route', 'add', 'blackhole', `${svc}/32`]);
        rules.push(['-t', 'nat', 'PREROUTING', '-d', `${svc}/32`, '-p', 'tcp', '--dport', '80', '-m', 'comment', '--comment', tag, '-j', 'DNAT', '--to-destination', `${ipB}:7000`]);
        // as kube-proxy masquerades hairpin traffic: the backend answers through the host
        rules.push(['-t', 'nat', 'POSTROUTING', '-s', suite.ctd.subnet, '-d', `${ipB}/32`, '-p', 'tcp', '--dport', '7000', '-m', 'conntrack', '--ctstate', 'DNAT', '-m', 'comment', '--comment', tag, '-j', 'MASQUERADE']);
        for (const r of rules) execFileSync('iptables', ['-w', r[0]!, r[1]!, '-I', ...r.slice(2)]);
        const got = await waitFor('tcp to the Service address', async () => {
          const r = await suite.env.cri.execSync(a.cid, ['sh', '-c', `socat -t 3 -T 5 STDIO TCP:${svc}:80,connect-timeout=3 </dev/null`], 15);
          return r.exit_code === 0 && r.stdout.toString().trim() ? r.stdout.toString().trim() : undefined;
        }, 20_000, 300);
        assert.equal(got, 'tcp-b', 'the Service address reaches the vnode backend pod');

        const pf = await portForwardOnce(suite.ctd.address, b.pod.id, 7000, '', { until: (d) => d.toString().includes('tcp-b') });
        assert.equal(pf.error, '', 'no port-forward error');
        assert.equal(pf.data.toString().trim(), 'tcp-b', "PortForward reaches the pod's localhost:7000 in its own network namespace");
      } finally {
        for (const r of rules) {
          try { execFileSync('iptables', ['-w', r[0]!, r[1]!, '-D', ...r.slice(2)]); } catch { /* not added */ }
        }
        try { execFileSync('ip', ['route', 'del', 'blackhole', `${svc}/32`]); } catch { /* not added */ }
        await a.pod.remove();
        await b.pod.remove();
      }
      assert.doesNotMatch(execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }), new RegExp(tag), 'the test rules are gone');
    });

    it("hostNetwork pods of a vNode share its namespace and IP, other vNodes have their own; no host interface; the vNode's name as hostname", async () => {
      const host = new Set(hostLinks().filter((l) => l !== 'lo'));
      const pods: TestPod[] = [];
      try {
        const seen: { ns: string; ip: string; links: string[]; hostname: string; etcHostname: string }[] = [];
        for (const [i, namespace] of ['hn-a', 'hn-a', 'hn-b'].entries()) {
          const p = await TestPod.run(suite.env, { namespace, hostNetwork: true });
          pods.push(p);
          // the servers in the first pod only: the second shares its namespace (and ports)
          const cid = await p.runContainer({ name: 'c', image: NETTOOLS_IMAGE, command: i === 0 ? SERVERS : ['sleep', '3600'], env: { POD: namespace } });
          await p.waitForState(cid, 'CONTAINER_RUNNING');
          const links = (JSON.parse(await sh(suite.env, cid, 'ip -j link')) as { ifname: string }[]).map((l) => l.ifname);
          seen.push({ ns: (await sh(suite.env, cid, 'readlink /proc/self/ns/net')).trim(), ip: (await eth0Addr(suite.env, cid)) ?? '', links, hostname: (await sh(suite.env, cid, 'hostname')).trim(), etcHostname: (await sh(suite.env, cid, 'cat /etc/hostname; echo "$HOSTNAME"; stat -c %u:%g /etc/hostname')).trim() });
          if (seen.length === 3) assert.deepEqual(await talk(suite.env, cid, seen[0]!.ip), { tcp: 'tcp-hn-a', udp: 'udp-hn-a' }, 'vNode hn-b reaches vNode hn-a on its IP');
        }
        const [p1, p2, p3] = seen as [(typeof seen)[0], (typeof seen)[0], (typeof seen)[0]];
        assert.ok(p1.ip.startsWith(suite.ctd.subnet.replace(/0\/24$/, '')), `the vNode's IP ${p1.ip} is on the pod network`);
        assert.equal(p2.ns, p1.ns, 'one namespace for the hostNetwork pods of a vNode');
        assert.equal(p2.ip, p1.ip, 'one IP');
        assert.notEqual(p3.ns, p1.ns, 'another vNode, another namespace');
        assert.notEqual(p3.ip, p1.ip, 'another vNode, another IP');
        for (const s of seen) {
          assert.deepEqual(s.links.filter((l) => l !== 'lo'), ['eth0'], `only lo and the vNode's eth0: ${s.links.join(' ')}`);
          assert.deepEqual(s.links.filter((l) => host.has(l) && l !== 'eth0'), [], 'no host interface');
        }
        const names = Object.fromEntries(vnodeRecords(suite.ctd).map((r) => [r.key, r.name]));
        assert.equal(p1.hostname, names['ns/hn-a']);
        assert.equal(p3.hostname, names['ns/hn-b']);
        // containerd writes the host's name into /etc/hostname and HOSTNAME of a hostNetwork pod: here the vNode's
        for (const s of seen) assert.equal(s.etcHostname, `${s.hostname}\n${s.hostname}\n0:0`, `hostname, /etc/hostname and HOSTNAME agree: ${s.etcHostname}`);
      } finally {
        for (const p of pods) await p.remove();
      }
    });

    it("a privileged vnode pod's bridge, veth pair and iptables NAT rules (nft and legacy) stay in its namespace", async () => {
      const tag = randomBytes(3).toString('hex');
      const [br, va, vb] = [`vbr${tag}`, `vva${tag}`, `vvb${tag}`];
      const net = `10.${123}.${randomBytes(1)[0]! % 250}.0/24`;
      await withPod(suite.env, { namespace: 'net-priv', privileged: true }, async (pod) => {
        const cid = await pod.runContainer({ name: 'c', image: NETTOOLS_IMAGE, command: ['sleep', '3600'], privileged: true });
        await pod.waitForState(cid, 'CONTAINER_RUNNING');
        const out = await sh(suite.env, cid, [
          'set -e',
          `ip link add ${br} type bridge`,
          `ip link add ${va} type veth peer name ${vb}`,
          `ip link set ${va} master ${br}`,
          `ip addr add ${net.replace(/0\/24$/, '1/24')} dev ${br}`,
          `ip link set ${br} up`,
          `iptables -t nat -A POSTROUTING -s ${net} -j MASQUERADE`,
          `iptables-legacy -t nat -A POSTROUTING -s ${net} -j MASQUERADE`,
          'ip -br link',
          'iptables-save -t nat',
          'iptables-legacy-save -t nat',
        ].join('\n'));
        for (const l of [br, va, vb]) assert.match(out, new RegExp(`^${l}(@\\S+)?\\s`, 'm'), `${l} exists in the pod`);
        assert.equal(out.split(`-A POSTROUTING -s ${net} -j MASQUERADE`).length - 1, 2, 'the NAT rule, once per backend');
        // the host sees none of it
        const links = hostLinks();
        for (const l of [br, va, vb]) assert.ok(!links.includes(l), `${l} is not on the host`);
        assert.ok(!execFileSync('iptables-save', { encoding: 'utf8' }).includes(net), "the host's nft rules do not have it");
        assert.ok(!execFileSync('iptables-legacy-save', { encoding: 'utf8' }).includes(net), "the host's legacy rules do not have it");
      });
    });

    it('Stop/RemovePodSandbox leave no netns, veth, mount, record or lease, also after the manager was killed with SIGKILL', async () => {
      const base = snapshot(suite);
      // plain: two pods (one hostNetwork) come and go
      for (const kill of [false, true]) {
        const p = await serverPod(suite.env, { namespace: 'net-clean' }, 'p');
        const h = await TestPod.run(suite.env, { namespace: 'net-clean', hostNetwork: true });
        await h.runContainer({ name: 'c', image: NETTOOLS_IMAGE, command: ['sleep', '3600'] });
        assert.notDeepEqual(snapshot(suite).leases, base.leases, 'the pods took IP leases');
        if (kill) {
          const pid = managerPid(suite.ctd);
          process.kill(pid, 'SIGKILL');
          await waitFor('the manager to die', () => !isAlive(pid), 5_000);
        }
        await p.pod.remove();
        await h.remove();
        const after = await waitFor('everything to be given back', () => {
          const s = snapshot(suite);
          return JSON.stringify(s) === JSON.stringify(base) ? s : undefined;
        }, 15_000, 200).catch(() => snapshot(suite));
        assert.deepEqual(after, base, `nothing left behind${kill ? ' after kill -9 of the manager' : ''}`);
        assert.deepEqual(vnodeRecords(suite.ctd).filter((r) => r.key === 'ns/net-clean'), [], 'the vNode went with its pods');
      }
    });
  });

  describe(`pod network with a vNode per pod (containerd ${version})`, () => {
    const suite = vnodeSuite({ version, env: { VNODE_PER_POD: 'true' } });
    before(async () => {
      await importNetToolsImage(suite.ctd.ctr);
    });

    it('two pods of one namespace: own vNodes, own eth0 with the status IP, TCP and UDP between them, nothing left', async () => {
      const base = snapshot(suite);
      const a = await serverPod(suite.env, { namespace: 'pp' }, 'a');
      const b = await serverPod(suite.env, { namespace: 'pp' }, 'b');
      try {
        assert.equal(vnodeRecords(suite.ctd).filter((r) => r.key.startsWith('pod/')).length, 2, 'a vNode per pod');
        const ipA = await statusIp(suite.env, a.pod);
        const ipB = await statusIp(suite.env, b.pod);
        assert.equal(await eth0Addr(suite.env, a.cid), ipA);
        assert.equal(await eth0Addr(suite.env, b.cid), ipB);
        assert.deepEqual(await talk(suite.env, a.cid, ipB), { tcp: 'tcp-b', udp: 'udp-b' });
        assert.deepEqual(await talk(suite.env, b.cid, ipA), { tcp: 'tcp-a', udp: 'udp-a' });
      } finally {
        await a.pod.remove();
        await b.pod.remove();
      }
      const after = await waitFor('everything to be given back', () => (JSON.stringify(snapshot(suite)) === JSON.stringify(base) ? true : undefined), 15_000, 200).then(() => snapshot(suite), () => snapshot(suite));
      assert.deepEqual(after, base);
    });
  });

  describe(`a containerd whose vnode runtime has no vnode-cni chain (containerd ${version})`, () => {
    const major = version === '2' ? 2 : 1;
    const suite = vnodeSuite({
      version,
      env: { VNODE_ALLOW_HOST_NETWORK: 'false' },
      // as the README's one-line runtime table: the default CNI chain (no vnode-cni)
      configure: (config) => {
        const vnode = runtimesOf(config, major)['vnode'] as Record<string, unknown>;
        delete vnode['cni_conf_dir'];
        delete vnode['cni_max_conf_num'];
      },
    });

    it('refuses a hostPort pod (and every vnode pod) with an error naming the fix; leaves nothing', async () => {
      const base = snapshot(suite);
      for (const spec of [{ name: 'hp', namespace: 'nochain', portMappings: [{ protocol: TCP, container_port: 80, host_port: 8089, host_ip: '' }] }, { name: 'plain', namespace: 'nochain' }]) {
        const err = await TestPod.run(suite.env, spec).then(async (p) => { await p.remove(); return undefined; }, (e: unknown) => e);
        assert.ok(err instanceof CriError, `RunPodSandbox of ${spec.name} was refused (rc != 0): ${String(err)}`);
        assert.match(err.details, /was not set up by vnode-cni/);
        assert.match(err.details, /cni_conf_dir/, 'the message names the fix');
      }
      assert.deepEqual((await suite.env.cri.listPodSandbox()).filter((s) => s.metadata?.namespace === 'nochain').map((s) => s.state), [], 'no sandbox is left');
      const after = await waitFor('everything to be given back', () => (JSON.stringify(snapshot(suite)) === JSON.stringify(base) ? true : undefined), 15_000, 200).then(() => snapshot(suite), () => snapshot(suite));
      assert.deepEqual(after, base);
      // the runc handler is not affected
      await withPod(criEnv(suite.ctd, 'runc'), { namespace: 'nochain-runc' }, async (p) => assert.ok(p.id));
    });

    it('refuses a hostNetwork pod unless VNODE_ALLOW_HOST_NETWORK=true (PortForward would reach the host)', async () => {
      const err = await TestPod.run(suite.env, { namespace: 'nochain-hn', hostNetwork: true }).then(async (p) => { await p.remove(); return undefined; }, (e: unknown) => e);
      assert.ok(err instanceof CriError, `refused: ${String(err)}`);
      assert.match(err.details, /hostNetwork.*VNODE_ALLOW_HOST_NETWORK=true/s);
    });
  });
}
