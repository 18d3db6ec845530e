// Devices and /dev/shm in a vNode: a device given through CRI is the host's node, owned by
// host root, which the vNode does not map: it shows as nobody:nogroup and opens only
// through its "other" bits. /dev/random and /dev/urandom are the host's nodes. The pod's
// /dev/shm is one tmpfs for all its containers.
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { describe, it } from 'node:test';
import { availableContainerdVersions } from '../../support/containerd.js';
import { withPod, type CriEnv } from '../../support/cri.js';
import { vnodeSuite } from '../../support/vnode-host.js';

const version = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',')[0] ?? (availableContainerdVersions().includes('2') ? '2' : '1.7')) as '2' | '1.7';

async function sh(env: CriEnv, cid: string, script: string): Promise<{ code: number; out: string; err: string }> {
  const r = await env.cri.execSync(cid, ['sh', '-c', script], 15);
  return { code: r.exit_code, out: r.stdout.toString(), err: r.stderr.toString() };
}

describe(`devices and /dev/shm in vNodes (containerd ${version})`, () => {
  const suite = vnodeSuite({ version });

  it('shows a given device as nobody:nogroup, usable only through its "other" permission bits', async () => {
    // /dev/full is crw-rw-rw- on the host, /dev/loop-control crw------- (both root-owned)
    assert.equal(statSync('/dev/full').mode & 0o006, 0o006);
    assert.equal(statSync('/dev/loop-control').mode & 0o006, 0);
    await withPod(suite.env, { namespace: 'dev' }, async (pod) => {
      const cid = await pod.runContainer({
        name: 'd',
        command: ['sleep', '3600'],
        devices: [
          { container_path: '/dev/xfull', host_path: '/dev/full', permissions: 'rwm' },
          { container_path: '/dev/xloop', host_path: '/dev/loop-control', permissions: 'rwm' },
        ],
      });
      await pod.waitForState(cid, 'CONTAINER_RUNNING');
      const st = await sh(suite.env, cid, "stat -c '%n %U:%G %t:%T' /dev/xfull /dev/xloop /dev/random /dev/urandom");
      assert.equal(st.code, 0, st.err);
      assert.equal(st.out, '/dev/xfull nobody:nogroup 1:7\n/dev/xloop nobody:nogroup a:ed\n/dev/random nobody:nogroup 1:8\n/dev/urandom nobody:nogroup 1:9\n');
      // the device works: /dev/full reads zeros and refuses writes with ENOSPC, as on the host
      const full = await sh(suite.env, cid, 'head -c 4 /dev/xfull | wc -c; echo x > /dev/xfull');
      assert.equal(full.out, '4\n');
      assert.match(full.err, /No space left on device/);
      const loop = await sh(suite.env, cid, 'cat /dev/xloop');
      assert.notEqual(loop.code, 0);
      assert.match(loop.err, /Permission denied/);
      const rnd = await sh(suite.env, cid, 'head -c 32 /dev/urandom | wc -c; head -c 8 /dev/random | wc -c');
      assert.equal(rnd.out, '32\n8\n');
    });
  });

  it("shares the pod's /dev/shm between its containers, and not with another pod", async () => {
    await withPod(suite.env, { namespace: 'shm' }, async (pod) => {
      const [a, b] = await Promise.all([pod.runContainer({ name: 'a', command: ['sleep', '3600'] }), pod.runContainer({ name: 'b', command: ['sleep', '3600'] })]);
      await pod.waitForState(a, 'CONTAINER_RUNNING');
      await pod.waitForState(b, 'CONTAINER_RUNNING');
      assert.equal((await sh(suite.env, a, 'echo from-a > /dev/shm/x && stat -f -c %T /dev/shm')).out, 'tmpfs\n');
      assert.equal((await sh(suite.env, b, 'cat /dev/shm/x')).out, 'from-a\n');
      await withPod(suite.env, { namespace: 'shm' }, async (other) => {
        const c = await other.runContainer({ name: 'c', command: ['sleep', '3600'] });
        await other.waitForState(c, 'CONTAINER_RUNNING');
        const r = await sh(suite.env, c, 'cat /dev/shm/x');
        assert.notEqual(r.code, 0, 'another pod of the same vNode has its own /dev/shm');
      });
    });
  });
});
