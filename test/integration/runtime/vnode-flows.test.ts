// The reference CRI flows (the ones containerd's runc handler passes) with the vnode
// handler, on every containerd version this machine has (1.7 and 2.x after
// scripts/setup-host.sh; bookworm's 1.6 too).
import { after, before, describe, it } from 'node:test';
import { availableContainerdVersions, startContainerd, type ContainerdInstance } from '../../support/containerd.js';
import { criEnv } from '../../support/cri.js';
import { referenceFlows } from '../../support/flows.js';

const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions()) as ReturnType<typeof availableContainerdVersions>;

for (const version of versions) {
  describe(`vnode handler on containerd ${version}`, () => {
    let ctd: ContainerdInstance;
    before(async () => {
      ctd = await startContainerd({ version });
    });
    after(async () => {
      await ctd?.stop();
    });
    for (const [name, flow] of Object.entries(referenceFlows)) {
      it(name, async () => {
        await flow(criEnv(ctd, 'vnode'));
      });
    }
  });
}
