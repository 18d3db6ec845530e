// A named vNode (pod annotation vnode.dev/vnode, passed through by the vnode runtime's
// pod_annotations): pods of different Kubernetes namespaces that name the same vNode
// share it (one ID range, one vNode init); pods without it keep the per-namespace default;
// a name that is no DNS label is refused with what to use.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { availableContainerdVersions } from '../../support/containerd.js';
import { vnodeRecords, vnodeSuite } from '../../support/vnode-host.js';
import { TestPod, withPod, type CriEnv } from '../../support/cri.js';

const versions = availableContainerdVersions().filter((v) => v === '1.7' || v === '2') as ('1.7' | '2')[];
const NAMED = { 'vnode.dev/vnode': 'tenant-x' };

async function uidMap(env: CriEnv, pod: TestPod): Promise<string> {
  const cid = await pod.runContainer({ name: 'c', command: ['sleep', '3600'] });
  await pod.waitForState(cid, 'CONTAINER_RUNNING');
  const r = await env.cri.execSync(cid, ['cat', '/proc/self/uid_map'], 10);
  assert.equal(r.exit_code, 0, r.stderr.toString());
  return r.stdout.toString().trim().replace(/\s+/g, ' ');
}

for (const version of versions) {
  describe(`named vNodes (containerd ${version})`, () => {
    const suite = vnodeSuite({ version });

    it('puts pods of two namespaces that name one vNode into it, and others into their namespace\'s', async () => {
      await withPod(suite.env, { namespace: 'team-a', annotations: NAMED }, async (a) => {
        await withPod(suite.env, { namespace: 'team-b', annotations: NAMED }, async (b) => {
          await withPod(suite.env, { namespace: 'team-a' }, async (plain) => {
            const [ma, mb, mp] = [await uidMap(suite.env, a), await uidMap(suite.env, b), await uidMap(suite.env, plain)];
            assert.equal(ma, mb, 'both named pods run in one user namespace (one ID range)');
            assert.notEqual(ma, mp, 'the pod without the annotation has its own vNode');
            const records = vnodeRecords(suite.ctd);
            const named = records.filter((r) => r.key === 'vnode/tenant-x');
            assert.equal(named.length, 1);
            assert.equal(named[0]!.name, 'vnode-tenant-x');
            assert.equal(named[0]!.members.length, 4, 'two sandboxes and two containers');
            assert.ok(records.some((r) => r.key === 'ns/team-a'));
          });
        });
      });
      assert.deepEqual(vnodeRecords(suite.ctd), [], 'the named vNode went with its last pod');
    });

    it('refuses a vNode name that is not a DNS label, and leaves nothing', async () => {
      await assert.rejects(
        TestPod.run(suite.env, { namespace: 'team-c', annotations: { 'vnode.dev/vnode': 'Bad_Name' } }),
        /annotation vnode\.dev\/vnode="Bad_Name" is not a valid vNode name: use a DNS label/,
      );
      assert.deepEqual(vnodeRecords(suite.ctd), []);
    });
  });
}
