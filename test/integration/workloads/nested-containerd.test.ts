// A nested containerd in a vNode pod, the building block of Kubernetes-in-Kubernetes
// (docs/privileged-workloads.md): Debian's containerd 1.6 (with its CRI plugin), runc and
// the CNI plugins run in a privileged container, and a pod of their own starts through that
// inner CRI, with its own address from the inner bridge CNI. The CRI client is the test
// suite's (the calls kubelet makes), connected to the inner socket through the container's
// root (crictl is not packaged in Debian). Nothing of the inner pod shows on the host.
// containerd 2.x with a vNode per namespace, 1.7 with a vNode per pod (VNODE_PER_POD).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { hostCgroupLayout } from '../../../src/cgroup/index.js';
import { CriClient } from '../../../src/k8s/cri/index.js';
import { INNER_BUSYBOX_ARCHIVE, INNER_BUSYBOX_REF, INNER_PAUSE_ARCHIVE, INNER_PAUSE_REF } from '../../../src/oci/index.js';
import { TestPod, withPod, waitFor, type CriEnv } from '../../support/cri.js';
import { containerPid } from '../../support/flows.js';
import { vnodeSuite } from '../../support/vnode-host.js';
import { execSh, gained, hostSnapshot, importDebianImage, kubeletEmptyDir, workloadLanes } from '../../support/workloads.js';

const lanes = workloadLanes();

/** containerd 1.6's config (version 2) inside the pod: oom_score_adj clamped, as in any user namespace. */
const NESTED_CONFIG = `version = 2
root = "/var/lib/containerd"
state = "/run/containerd"
[grpc]
  address = "/run/containerd/containerd.sock"
[plugins."io.containerd.grpc.v1.cri"]
  restrict_oom_score_adj = true
  sandbox_image = "${INNER_PAUSE_REF}"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "/etc/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
`;
const NESTED_CNI = JSON.stringify({
  cniVersion: '1.0.0', name: 'nested',
  plugins: [{ type: 'bridge', bridge: 'nested0', isGateway: true, ipMasq: true, ipam: { type: 'host-local', ranges: [[{ subnet: '10.89.0.0/24' }]], routes: [{ dst: '0.0.0.0/0' }] } }],
});

const sh = (env: CriEnv, cid: string, script: string, timeoutSec = 60) => execSh(env, cid, script, timeoutSec);

for (const lane of lanes) {
  describe(`a nested containerd on containerd ${lane.version} (${lane.perPod ? 'a vNode per pod' : 'a vNode per namespace'}, ${hostCgroupLayout().mode})`, () => {
    const suite = vnodeSuite({ version: lane.version, env: lane.perPod ? { VNODE_PER_POD: 'true' } : {} });

    it('runs a pod of its own through the inner CRI, with the inner CNI', { timeout: 600_000 }, async () => {
      const image = await importDebianImage(suite.ctd.ctr, 'docker');
      const emptyDir = kubeletEmptyDir('containerd-lib');
      const lib = emptyDir.dir;
      const before = hostSnapshot();
      try {
        await withPod(suite.env, { namespace: 'k8s-in-k8s', privileged: true }, async (pod) => {
          const start = [
            'mkdir -p /etc/containerd /etc/cni/net.d',
            `cat > /etc/containerd/nested.toml <<'EOF'\n${NESTED_CONFIG}EOF`,
            `echo '${NESTED_CNI}' > /etc/cni/net.d/10-nested.conflist`,
            'exec containerd --config /etc/containerd/nested.toml',
          ].join('\n');
          const cid = await pod.runContainer({
            // the image's entrypoint first: on cgroup v2 it frees the cgroup root for the inner pods' cgroups
            name: 'containerd', image, privileged: true, args: ['sh', '-c', start],
            mounts: [{ container_path: '/var/lib/containerd', host_path: lib } as never],
          });
          await waitFor('the inner containerd answers', async () => (await sh(suite.env, cid, 'ctr version >/dev/null 2>&1 && echo up', 10)).out === 'up', 60_000, 500);
          const imported = await sh(suite.env, cid, `ctr -n k8s.io images import ${INNER_PAUSE_ARCHIVE} && ctr -n k8s.io images import ${INNER_BUSYBOX_ARCHIVE}`);
          assert.equal(imported.code, 0, imported.err);

          const outerPid = await containerPid(suite.env, cid);
          const inner = new CriClient(`/proc/${outerPid}/root/run/containerd/containerd.sock`);
          try {
            const version = await inner.version();
            assert.match(version.runtime_version ?? '', /^1\.6\./, 'the inner CRI is Debian\'s containerd 1.6');
            const innerEnv: CriEnv = { cri: inner, handler: 'runc', cgroupParent: '/nested', logRoot: '/var/log/pods', images: { busybox: INNER_BUSYBOX_REF, pause: INNER_PAUSE_REF } };
            await waitFor('the inner images reach the inner CRI', async () => !!(await inner.imageStatus(INNER_BUSYBOX_REF)).image, 15_000);
            const innerPod = await TestPod.run(innerEnv, { name: 'nested', namespace: 'inner' });
            try {
              const icid = await innerPod.runContainer({ name: 'app', command: ['sleep', '3600'] });
              await innerPod.waitForState(icid, 'CONTAINER_RUNNING');
              const ip = (await inner.podSandboxStatus(innerPod.id)).status?.network?.ip ?? '';
              assert.match(ip, /^10\.89\.0\.\d+$/, 'the inner pod has its address from the inner CNI');
              const seen = await inner.execSync(icid, ['sh', '-c', 'ip -4 -o addr show eth0 | awk \'{print $4}\'; cat /proc/1/cmdline | tr "\\0" " "'], 10);
              assert.deepEqual(seen.stdout.toString().trim().split('\n'), [`${ip}/24`, 'sleep 3600'], seen.stderr.toString());
              // reachable from the outer pod over the inner bridge
              const ping = await sh(suite.env, cid, `busybox ping -c 1 -W 2 ${ip} >/dev/null && echo reachable`);
              assert.equal(ping.out, 'reachable', ping.err);
              // the host sees neither the inner bridge nor its network
              const now = gained(before, hostSnapshot());
              assert.ok(!now.links.includes('nested0'), `no inner bridge on the host: ${now.links.join(' ')}`);
              assert.doesNotMatch(execFileSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' }), /inet 10\.89\.0\./);
              assert.deepEqual(now.iptables.filter((r) => r.includes('10.89.0.')), [], 'no inner masquerade rule on the host');
            } finally {
              await innerPod.remove();
            }
            assert.deepEqual((await inner.listPodSandbox()).filter((p) => p.metadata?.name === 'nested'), [], 'the inner pod is gone');
          } finally {
            inner.close();
          }
        });
        const after = gained(before, hostSnapshot());
        assert.deepEqual(after.mounts.filter((m) => /containerd\/io\.containerd|nested/.test(m)), [], `no inner mount left: ${after.mounts.join('\n')}`);
      } finally {
        emptyDir.remove();
      }
    });
  });
}
