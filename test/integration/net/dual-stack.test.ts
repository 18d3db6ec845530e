// A dual-stack pod network through CRI (issue 9): with the bridge plugin handing out an
// IPv4 and an IPv6 address (host-local, two ranges), a vnode pod keeps both on eth0 in the
// namespace its vNode owns, with both default routes; CRI reports both (ip and
// additional_ips); TCP over IPv6 works vnode → runc and runc → vnode; nothing is left
// after removal. Traffic goes only to addresses on this machine's test bridge.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { availableContainerdVersions, type ContainerdVersion } from '../../support/containerd.js';
import { criEnv, TestPod, waitFor, type CriEnv } from '../../support/cri.js';
import { importNetToolsImage, NETTOOLS_IMAGE } from '../../support/images.js';
import { vnodeSuite } from '../../support/vnode-host.js';

const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions().filter((v) => v !== '1.6')) as ContainerdVersion[];

const SERVER = ['sh', '-c', "socat TCP6-LISTEN:7000,fork,reuseaddr SYSTEM:'echo tcp6-$POD'"];

async function sh(env: CriEnv, cid: string, script: string): Promise<string> {
  const r = await env.cri.execSync(cid, ['sh', '-c', script], 20);
  assert.equal(r.exit_code, 0, `${script} failed (${r.exit_code}): ${r.stderr.toString()}${r.stdout.toString()}`);
  return r.stdout.toString();
}

async function serverPod(env: CriEnv, namespace: string, name: string): Promise<{ pod: TestPod; cid: string }> {
  const pod = await TestPod.run(env, { namespace });
  const cid = await pod.runContainer({ name: 'srv', image: NETTOOLS_IMAGE, command: SERVER, env: { POD: name } });
  await pod.waitForState(cid, 'CONTAINER_RUNNING');
  return { pod, cid };
}

/** PodSandboxStatus's addresses: the primary and the additional ones. */
async function statusIps(env: CriEnv, pod: TestPod): Promise<string[]> {
  const s = (await env.cri.podSandboxStatus(pod.id)) as { status?: { network?: { ip?: string; additional_ips?: { ip: string }[] } } };
  return [s.status?.network?.ip ?? '', ...(s.status?.network?.additional_ips ?? []).map((a) => a.ip)].filter(Boolean);
}

async function tcp6(env: CriEnv, cid: string, ip: string): Promise<string> {
  return waitFor(`tcp6 to ${ip}`, async () => {
    const r = await env.cri.execSync(cid, ['sh', '-c', `socat -t 3 -T 5 STDIO TCP6:[${ip}]:7000,connect-timeout=3 </dev/null`], 15);
    return r.exit_code === 0 && r.stdout.toString().trim() ? r.stdout.toString().trim() : undefined;
  }, 20_000, 300);
}

for (const version of versions) {
  describe(`dual-stack pod network through CRI (containerd ${version})`, () => {
    const suite = vnodeSuite({ version, ipv6: true });
    before(async () => {
      await importNetToolsImage(suite.ctd.ctr);
    });

    it('a vnode pod keeps its IPv4 and IPv6 addresses and routes, CRI reports both, and TCP over IPv6 works to and from a runc pod', async () => {
      const prefix6 = suite.ctd.ipv6Subnet!.replace(/::\/64$/, ':');
      const vn = await serverPod(suite.env, 'ds-a', 'vnode');
      const runcEnv = criEnv(suite.ctd, 'runc');
      const rc = await serverPod(runcEnv, 'ds-b', 'runc');
      try {
        const vnIps = await statusIps(suite.env, vn.pod);
        const rcIps = await statusIps(runcEnv, rc.pod);
        const v6Of = (ips: string[]) => ips.find((ip) => ip.startsWith(prefix6));
        assert.equal(vnIps.length, 2, `CRI reports both families for the vnode pod: ${vnIps.join(' ')}`);
        assert.ok(v6Of(vnIps) && v6Of(rcIps), `IPv6 addresses from ${suite.ctd.ipv6Subnet}: vnode ${vnIps.join(' ')}, runc ${rcIps.join(' ')}`);

        // inside the vNode pod: both addresses on eth0 (the IPv6 one no longer tentative), both default routes
        const addrs = JSON.parse(await sh(suite.env, vn.cid, 'ip -j addr show dev eth0')) as { addr_info: { family: string; local: string; scope: string; tentative?: boolean }[] }[];
        const global = addrs[0]!.addr_info.filter((a) => a.scope === 'global');
        assert.deepEqual(global.map((a) => a.local).sort(), [...vnIps].sort(), `eth0 has what CRI reports: ${JSON.stringify(global)}`);
        assert.match(await sh(suite.env, vn.cid, 'ip -6 route show default'), /^default via fd76:/, 'an IPv6 default route through the bridge');
        assert.match(await sh(suite.env, vn.cid, 'ip -4 route show default'), /^default via 10\./);
        assert.equal(await sh(suite.env, vn.cid, 'readlink /proc/self/ns/user') !== await sh(runcEnv, rc.cid, 'readlink /proc/self/ns/user'), true, 'the vnode pod is in a user namespace of its own');

        assert.equal(await tcp6(suite.env, vn.cid, v6Of(rcIps)!), 'tcp6-runc', 'vnode → runc over IPv6');
        assert.equal(await tcp6(runcEnv, rc.cid, v6Of(vnIps)!), 'tcp6-vnode', 'runc → vnode over IPv6');
      } finally {
        await vn.pod.remove();
        await rc.pod.remove();
      }
      // both families' leases went back to host-local
      const ipam = join(suite.ctd.dir, 'cni', 'ipam');
      const leases = existsSync(ipam) ? readdirSync(ipam, { recursive: true, encoding: 'utf8' }).filter((f) => /(\d+\.\d+\.\d+\.\d+|[0-9a-f]*:[0-9a-f:]+)$/.test(f)) : [];
      assert.deepEqual(leases, [], `no lease left: ${leases.join(' ')}`);
    });
  });
}
