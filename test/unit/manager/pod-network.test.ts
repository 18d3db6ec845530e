import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { networkOptionsFromEnv, requirePodNetwork } from '../../../src/manager/task/pod-network.js';
import { NetError } from '../../../src/net/index.js';
import type { Plan } from '../../../src/oci/index.js';

const plan = (over: Partial<Plan>): Plan => ({ spec: {} as Plan['spec'], idmaps: [], hostPaths: [], newPodNetwork: false, hostNetwork: false, files: [], ...over });

describe('sandbox network checks', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vnode-marker-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('reads its options from the environment', () => {
    assert.deepEqual(networkOptionsFromEnv({ VNODE_CNI_CONF_DIR: '/c', VNODE_CNI_BIN_DIRS: '/a:/b', VNODE_RUN_DIR: '/r', VNODE_ALLOW_HOST_NETWORK: 'true' }), {
      cniConfDir: '/c', cniBinDirs: ['/a', '/b'], markerDir: '/r/cni', allowHostNetwork: true,
    });
    assert.deepEqual(networkOptionsFromEnv({}), { cniConfDir: undefined, cniBinDirs: undefined, markerDir: '/run/vnode/cni', allowHostNetwork: false });
  });

  it("refuses a sandbox with containerd's netns but no vnode-cni marker for it, naming the fix", () => {
    const p = plan({ newPodNetwork: true, containerdNetns: '/run/netns/cni-1' });
    assert.throws(() => requirePodNetwork({ markerDir: dir }, 'sb1', 'pod a/b', p), (e: unknown) => e instanceof NetError && e.code === 'VNODE_NET_NO_VNODE_CNI' && /cni_conf_dir/.test(e.message));
    writeFileSync(join(dir, 'sb1.json'), JSON.stringify({ version: 1, containerId: 'sb1', netns: '/run/netns/cni-1', ifname: 'eth0', podNamespace: 'a', podName: 'b' }));
    requirePodNetwork({ markerDir: dir }, 'sb1', 'pod a/b', p);
    // a marker for another netns path does not count
    assert.throws(() => requirePodNetwork({ markerDir: dir }, 'sb1', 'pod a/b', plan({ newPodNetwork: true, containerdNetns: '/run/netns/cni-2' })), /not set up by vnode-cni/);
  });

  it('refuses a hostNetwork sandbox unless the node allows them', () => {
    const p = plan({ hostNetwork: true });
    assert.throws(() => requirePodNetwork({ markerDir: dir }, 'sb2', 'pod a/h', p), (e: unknown) => e instanceof NetError && e.code === 'VNODE_NET_HOST_NETWORK_REFUSED' && /pod a\/h.*VNODE_ALLOW_HOST_NETWORK=true/.test(e.message));
    requirePodNetwork({ markerDir: dir, allowHostNetwork: true }, 'sb2', 'pod a/h', p);
  });
});
