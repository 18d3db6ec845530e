// Shim protocol 3 with a real containerd: 2.x reaches a sandbox's containers over the
// sandbox's address (its bundle gets `sandbox` and a version 3 bootstrap.json instead of a
// `start` of the shim binary) and calls Task API v3; 1.7 keeps protocol 2. The pod's
// containers must run, exec, exit and be removed the same either way.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { availableContainerdVersions, startContainerd, type ContainerdInstance } from '../../support/containerd.js';
import { criEnv, waitFor, withPod } from '../../support/cri.js';
import { managerInstance } from '../../../src/shim/index.js';

const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions()) as ReturnType<typeof availableContainerdVersions>;
const SLEEPER = { command: ['sleep', '3600'] };

for (const version of versions) {
  describe(`shim protocol on containerd ${version}`, () => {
    let ctd: ContainerdInstance;
    before(async () => {
      ctd = await startContainerd({ version });
    });
    after(async () => {
      await ctd?.stop();
    });

    it(version.startsWith('1.') ? 'stays at protocol 2: every task has its own start' : 'is 3: the containers join the sandbox address without a start of their own', async () => {
      const env = criEnv(ctd, 'vnode');
      const bundleOf = (id: string) => join(ctd.state, 'io.containerd.runtime.v2.task', 'k8s.io', id);
      const bundles: string[] = [];
      await withPod(env, {}, async (pod) => {
        const main = await pod.runContainer({ name: 'main', ...SLEEPER });
        const side = await pod.runContainer({ name: 'side', command: ['sh', '-c', 'exit 3'] });
        await pod.waitForState(main, 'CONTAINER_RUNNING');
        assert.equal((await pod.waitForExit(side)).exit_code, 3);
        const out = await env.cri.execSync(main, ['sh', '-c', 'echo in-$0', 'pod'], 10);
        assert.equal(out.exit_code, 0, out.stderr.toString());
        assert.equal(out.stdout.toString(), 'in-pod\n');
        const inst = managerInstance(ctd.address);
        // an exited container's bundle is gone with its task: the running one shows how it was reached
        for (const cid of [main]) {
          bundles.push(bundleOf(cid));
          if (version.startsWith('1.')) {
            assert.ok(!existsSync(join(bundleOf(cid), 'sandbox')), `${cid}: 1.x writes no sandbox file`);
            assert.ok(!existsSync(join(bundleOf(cid), 'bootstrap.json')) || !readFileSync(join(bundleOf(cid), 'bootstrap.json'), 'utf8').includes('"version":3'));
          } else {
            // written only where containerd skipped the shim binary (core/runtime/v2/shim_manager.go)
            assert.equal(readFileSync(join(bundleOf(cid), 'sandbox'), 'utf8'), pod.id);
            assert.deepEqual(JSON.parse(readFileSync(join(bundleOf(cid), 'bootstrap.json'), 'utf8')), { version: 3, address: `unix://${inst.socket}`, protocol: 'ttrpc' });
          }
        }
        if (!version.startsWith('1.')) assert.equal((JSON.parse(readFileSync(join(bundleOf(pod.id), 'bootstrap.json'), 'utf8')) as { version: number }).version, 3);
        bundles.push(bundleOf(pod.id));
      });
      for (const b of bundles) assert.ok(!existsSync(b), `${b} is removed with the pod`);
      // a task containerd runs no `shim delete` for leaves no response for one
      const tombstones = join(managerInstance(ctd.address).dir, 'deleted', 'k8s.io');
      await waitFor('the shim deletes containerd runs to take their responses', () => !existsSync(tombstones) || readdirSync(tombstones).length === 0, 10_000);
    });
  });
}
