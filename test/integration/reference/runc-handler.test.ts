// Reference behaviour: containerd's own `runc` handler passes every flow of
// test/support/flows.ts on each containerd version. The vnode handler must pass the same flows.
// Needs root, runc, and containerd 1.7 / 2.x unpacked by scripts/setup-host.sh.
import { after, before, describe, test } from 'node:test';
import { existsSync } from 'node:fs';
import { containerdBinDir, startContainerd, type ContainerdInstance, type ContainerdVersion } from '../../support/containerd.js';
import { criEnv } from '../../support/cri.js';
import { referenceFlows } from '../../support/flows.js';

const isRoot = process.getuid?.() === 0;
const versions: ContainerdVersion[] = (process.env['VNODE_TEST_CONTAINERD_VERSIONS']?.split(',') as ContainerdVersion[] | undefined) ?? ['1.6', '1.7', '2'];

for (const version of versions) {
  describe(`runc handler on containerd ${version}`, { skip: isRoot ? false : 'needs root (private containerd, namespaces, mounts)' }, () => {
    let ctd: ContainerdInstance | undefined;
    before(async () => {
      // 1.7 and 2.x must be there (scripts/setup-host.sh): a missing one fails, it does not skip.
      if (!existsSync(`${containerdBinDir(version)}/containerd`)) {
        throw new Error(`containerd ${version} is not installed: run scripts/setup-host.sh`);
      }
      ctd = await startContainerd({ version });
    }, { timeout: 120_000 });
    after(async () => {
      await ctd?.stop();
    }, { timeout: 120_000 });
    for (const [name, flow] of Object.entries(referenceFlows)) {
      test(name, { timeout: 180_000 }, async () => {
        if (!ctd) throw new Error('containerd did not start');
        await flow(criEnv(ctd, 'runc'));
      });
    }
  });
}
