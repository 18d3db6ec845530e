// hostPort / hostIP through CRI: a vNode pod that asks for a port on the host is refused
// by vnode-cni (the vnode runtime's CNI chain) with an error naming the pod and the
// ports; containerd tears its network down, so nothing is left: no sandbox, netns,
// mount, vNode or IP lease. Pods without host ports, and runc's pods, are not affected.
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { availableContainerdVersions } from '../../support/containerd.js';
import { criEnv, CriError, TestPod, withPod } from '../../support/cri.js';
import { leasesOf, mountsBelow, vnodeRecords, vnodeSuite } from '../../support/vnode-host.js';

const version = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',')[0] ?? (availableContainerdVersions().includes('2') ? '2' : '1.7')) as '2' | '1.7';
const TCP = 0;
const UDP = 1;

/** IP leases of host-local below the instance's IPAM directory. */
function ipLeases(dir: string): string[] {
  const ipam = join(dir, 'cni', 'ipam');
  if (!existsSync(ipam)) return [];
  return readdirSync(ipam, { recursive: true, encoding: 'utf8' }).filter((f) => /\d+\.\d+\.\d+\.\d+$/.test(f));
}

describe(`hostPort in a vNode (containerd ${version})`, () => {
  const suite = vnodeSuite({ version });

  it('refuses a pod with host ports, naming the pod and the ports, and leaves nothing behind', async () => {
    const mountsBefore = mountsBelow(suite.ctd.dir).sort();
    const leasesBefore = ipLeases(suite.ctd.dir);
    const idLeasesBefore = leasesOf(suite.ctd);
    const err = await TestPod.run(suite.env, {
      name: 'web',
      namespace: 'hostports',
      portMappings: [
        { protocol: TCP, container_port: 80, host_port: 8080, host_ip: '' },
        { protocol: UDP, container_port: 53, host_port: 5353, host_ip: '127.0.0.1' },
      ],
    }).then(
      async (p) => {
        await p.remove();
        return undefined;
      },
      (e: unknown) => e,
    );
    assert.ok(err instanceof CriError, `RunPodSandbox was refused: ${String(err)}`);
    assert.match(err.details, /pod hostports\/web asks for container port 80\/tcp on host port 8080, container port 53\/udp on host port 5353 of host IP 127\.0\.0\.1: hostPort\/hostIP is not supported in a vNode/);
    assert.match(err.details, /reach it through a Service/);
    const left = (await suite.env.cri.listPodSandbox()).filter((s) => s.metadata?.name === 'web');
    assert.deepEqual(left.map((s) => s.state), [], 'no sandbox is left');
    assert.deepEqual(vnodeRecords(suite.ctd).filter((r) => r.key === 'ns/hostports'), [], 'no vNode was made for it');
    assert.deepEqual(leasesOf(suite.ctd), idLeasesBefore, 'no ID range was taken');
    assert.deepEqual(mountsBelow(suite.ctd.dir).sort(), mountsBefore, 'no network namespace or other mount is left');
    assert.deepEqual(ipLeases(suite.ctd.dir), leasesBefore, 'its IP lease was given back');

    // the same namespace without a host port runs (a container port alone is fine)
    await withPod(suite.env, { name: 'web', namespace: 'hostports', portMappings: [{ protocol: TCP, container_port: 80, host_port: 0, host_ip: '' }] }, async (pod) => {
      const cid = await pod.runContainer({ name: 'c', command: ['sleep', '3600'] });
      await pod.waitForState(cid, 'CONTAINER_RUNNING');
    });
  });

  it('leaves runc pods with host ports alone (vnode-cni is in the vnode runtime chain only)', async () => {
    const runc = criEnv(suite.ctd, 'runc');
    await withPod(runc, { namespace: 'hostports-runc', portMappings: [{ protocol: TCP, container_port: 80, host_port: 8081, host_ip: '' }] }, async (pod) => {
      assert.ok(pod.id);
    });
  });
});
