// Workloads outlive the manager: kill -9 it while pods run; vnode-hold starts a new one
// (or the next shim call does); the pods keep running, containerd's connections survive (held by
// vnode-hold), exits that happened meanwhile and afterwards report their true codes.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isAlive } from '../../../src/sys/index.js';
import { availableContainerdVersions, type ContainerdInstance } from '../../support/containerd.js';
import { sleep, TestPod, waitFor } from '../../support/cri.js';
import { instanceDir, leasesOf, managerPid, mountsBelow, taskStateFiles, vnodeRecords, vnodeSuite } from '../../support/vnode-host.js';

const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions().filter((v) => v !== '1.6')) as ('2' | '1.7')[];


for (const version of versions) {
  describe(`manager crash on containerd ${version}`, () => {
    const suite = vnodeSuite({ version });

    it('starts a new manager by itself after kill -9: no shim call needed, exec and /proc work again', async () => {
      const pod = await TestPod.run(suite.env, { namespace: 'restarted' });
      try {
        const cid = await pod.runContainer({ name: 'main', command: ['sleep', '3600'] });
        await pod.waitForState(cid, 'CONTAINER_RUNNING');
        const before = managerPid(suite.ctd);
        process.kill(before, 'SIGKILL');
        await waitFor('manager gone', () => !isAlive(before), 5000);
        // no CRI call until a new manager serves: vnode-hold runs the shim's start
        const after = await waitFor('a new manager', () => {
          const p = managerPid(suite.ctd);
          return p !== before && isAlive(p) ? p : undefined;
        }, 15_000, 100);
        assert.notEqual(after, before);
        const r = await suite.env.cri.execSync(cid, ['sh', '-c', 'echo served; grep -c . /proc/meminfo'], 10);
        assert.equal(r.exit_code, 0, r.stderr.toString());
        assert.match(r.stdout.toString(), /^served\n\d+\n$/);
      } finally {
        await pod.remove();
      }
      assert.deepEqual(vnodeRecords(suite.ctd), []);
      assert.deepEqual(taskStateFiles(suite.ctd), []);
      assert.deepEqual(mountsBelow(join(instanceDir(suite.ctd), 'mounts')), []);
    });

    it('keeps pods running and reports true exit codes after kill -9 of the manager', async () => {
      const pod = await TestPod.run(suite.env, { namespace: 'survivor' });
      try {
        const waiter = await pod.runContainer({ name: 'waiter', command: ['sh', '-c', 'while [ ! -e /tmp/stop ]; do sleep 0.1; done; exit 42'] });
        const quick = await pod.runContainer({ name: 'quick', command: ['sh', '-c', 'while [ ! -e /quit ]; do sleep 0.1; done; exit 7'] });
        await pod.waitForState(waiter, 'CONTAINER_RUNNING');
        await pod.waitForState(quick, 'CONTAINER_RUNNING');
        const hostPids = (await suite.ctd.ctr('-n', 'k8s.io', 'tasks', 'ls')).split('\n').filter((l) => l.startsWith(waiter)).map((l) => Number(l.split(/\s+/)[1]));
        assert.equal(hostPids.length, 1);
        const before = managerPid(suite.ctd);
        const quickPid = Number((await suite.ctd.ctr('-n', 'k8s.io', 'tasks', 'ls')).split('\n').find((l) => l.startsWith(quick))!.split(/\s+/)[1]);

        process.kill(before, 'SIGKILL');
        await waitFor('manager gone', () => !isAlive(before), 5000);
        // While it is down: one container exits (its exit is recorded by the vNode init).
        const quickRoot = `/proc/${quickPid}/root/quit`;
        readFileSync(`/proc/${quickPid}/status`); // still alive
        await import('node:fs').then((fs) => fs.writeFileSync(quickRoot, ''));
        await waitFor('quick exited on the host', () => !isAlive(quickPid), 10_000);
        assert.ok(isAlive(hostPids[0]!), 'the other container survived the manager');
        await sleep(300);
        // containerd has not been told anything: its view is still "running"
        assert.equal((await pod.status(waiter)).state, 'CONTAINER_RUNNING');

        // A new manager (started by vnode-hold, or by this shim call) takes the connections back.
        const next = await TestPod.run(suite.env, { namespace: 'newcomer' });
        try {
          const after = managerPid(suite.ctd);
          assert.notEqual(after, before);
          // the exit that happened while the manager was down is reported with its code
          const q = await pod.waitForExit(quick, 15_000);
          assert.equal(q.exit_code, 7);
          // vnodefs was taken over too: /proc files read from the new manager
          const mem = await suite.env.cri.execSync(waiter, ['sh', '-c', 'grep -c . /proc/meminfo; head -1 /proc/uptime'], 10);
          assert.equal(mem.exit_code, 0, mem.stderr.toString());
          assert.ok(Number(mem.stdout.toString().split('\n')[0]) > 20, mem.stdout.toString());
          // exec through containerd's old connection, served by the new manager
          const r = await suite.env.cri.execSync(waiter, ['sh', '-c', 'echo alive; touch /tmp/stop'], 10);
          assert.equal(r.exit_code, 0, r.stderr.toString());
          assert.equal(r.stdout.toString(), 'alive\n');
          const w = await pod.waitForExit(waiter, 15_000);
          assert.equal(w.exit_code, 42);
        } finally {
          await next.remove();
        }
      } finally {
        await pod.remove();
      }
      assert.deepEqual(vnodeRecords(suite.ctd), []);
      assert.deepEqual(taskStateFiles(suite.ctd), []);
      assert.deepEqual(leasesOf(suite.ctd), []);
      assert.deepEqual(mountsBelow(join(instanceDir(suite.ctd), 'mounts')), []);
    });
  });
}
