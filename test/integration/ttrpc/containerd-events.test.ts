// Against a real peer: containerd's own ttrpc server (<grpc address>.ttrpc).
// EventPublisher forwards task events; `ctr events`, subscribed before, must print them
// with the right namespace and topic. Needs root and /usr/bin/containerd.
import assert from 'node:assert/strict';
import { rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { encode } from '../../../src/proto/index.js';
import { EventPublisher } from '../../../src/taskapi/index.js';
import { Code, RpcError, TtrpcClient } from '../../../src/ttrpc/index.js';
import { canRunContainerd, containerdBinaries, startPrivateContainerd, waitFor, type PrivateContainerd } from './private-containerd.js';

// Every containerd present (1.6 from bookworm; 1.7 and 2.x when scripts/setup-host.sh unpacked them),
// or only VNODE_TEST_CONTAINERD_BIN when set.
const targets = process.env.VNODE_TEST_CONTAINERD_BIN ? [{ version: 'custom', bin: process.env.VNODE_TEST_CONTAINERD_BIN }] : containerdBinaries();
if (targets.length === 0) test('ttrpc against containerd', { skip: 'no containerd binary found' }, () => {});

for (const { version, bin } of targets) describe(`ttrpc against containerd ${version}`, { skip: canRunContainerd(bin) }, () => {
  let ctd: PrivateContainerd;
  before(async () => {
    ctd = await startPrivateContainerd({ bin });
  });
  after(async () => {
    await ctd?.cleanup();
  });

  /** Publishes marker events until the subscriber prints one: then it is surely subscribed. */
  async function subscribed(ev: { lines(): string[] }, pub: EventPublisher, tag: string) {
    let n = 0;
    await waitFor(`ctr events subscription (${tag})`, async () => {
      pub.publish('/tasks/oom', 'vnode-warmup', { containerId: `${tag}-${n++}` });
      await pub.flush(2000);
      await new Promise((r) => setTimeout(r, 100));
      return ev.lines().some((l) => l.includes(`${tag}-`));
    });
  }

  test('TaskCreate and TaskExit published by EventPublisher are printed by ctr events', async (t) => {
    const ev = ctd.events();
    const pub = new EventPublisher({ address: ctd.ttrpcAddress });
    try {
      await subscribed(ev, pub, 'warm1');
      pub.publish('/tasks/create', 'k8s.io', { containerId: 'vnode-c1', bundle: '/run/b/vnode-c1', rootfs: [], checkpoint: '', pid: 4242, io: { stdin: '', stdout: '/o', stderr: '/e', terminal: false } });
      pub.publish('/tasks/exit', 'default', { containerId: 'vnode-c1', id: 'vnode-c1', pid: 4242, exitStatus: 3, exitedAt: new Date() });
      assert.equal(await pub.flush(5000), true);
      const lines = await waitFor('both events', () => {
        const l = ev.lines().filter((x) => x.includes('vnode-c1'));
        return l.length >= 2 ? l : undefined;
      });
      for (const l of lines) t.diagnostic(`ctr events: ${l}`);
      // ctr prints: <timestamp> <namespace> <topic> <event as JSON>
      assert.match(lines[0]!, / k8s\.io \/tasks\/create /);
      assert.match(lines[0]!, /"pid":4242/);
      assert.match(lines[1]!, / default \/tasks\/exit /);
      assert.match(lines[1]!, /"exit_status":3/);
    } finally {
      ev.stop();
      await pub.close();
    }
  });

  test('events queued while containerd is down arrive, in order, after it restarts', async () => {
    // The publisher reaches containerd through a symlink that exists only when the test wants it.
    const link = join(ctd.dir, 'ttrpc-link.sock');
    symlinkSync(ctd.ttrpcAddress, link);
    const pub = new EventPublisher({ address: link, retryDelayMs: 20, maxRetryDelayMs: 200 });
    const warm = new EventPublisher({ address: ctd.ttrpcAddress });
    let ev = ctd.events();
    try {
      await subscribed(ev, warm, 'warm2');
      pub.publish('/tasks/start', 'k8s.io', { containerId: 'vnode-r0', pid: 1 });
      assert.equal(await pub.flush(5000), true);
      await waitFor('first event', () => ev.lines().some((l) => l.includes('vnode-r0')));
      ev.stop();

      rmSync(link);
      await ctd.stopDaemon();
      for (let i = 1; i <= 5; i++) pub.publish('/tasks/exec-added', 'k8s.io', { containerId: 'vnode-r', execId: `exec-${i}` });
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(pub.pending, 5, 'nothing delivered (or dropped) while containerd is down');
      await ctd.restart();
      ev = ctd.events();
      await subscribed(ev, warm, 'warm3');
      symlinkSync(ctd.ttrpcAddress, link);
      assert.equal(await pub.flush(10_000), true);
      const lines = await waitFor('five queued events', () => {
        const l = ev.lines().filter((x) => x.includes('"container_id":"vnode-r"'));
        return l.length >= 5 ? l : undefined;
      });
      assert.deepEqual(lines.map((l) => /exec-(\d)/.exec(l)?.[1]), ['1', '2', '3', '4', '5']);
      for (const l of lines) assert.match(l, / k8s\.io \/tasks\/exec-added /);
      assert.equal(pub.dropped, 0);
    } finally {
      ev.stop();
      await pub.close(100);
      await warm.close(100);
    }
  });

  test('statuses from a Go ttrpc server decode: unknown method, bad envelope', async () => {
    const c = new TtrpcClient(ctd.ttrpcAddress);
    try {
      await assert.rejects(c.call('containerd.services.events.ttrpc.v1.Events', 'NoSuch', new Uint8Array()), (e: RpcError) => e.code === Code.Unimplemented && /NoSuch/.test(e.message));
      await assert.rejects(c.call('no.such.Service', 'X', new Uint8Array()), (e: RpcError) => e.code === Code.Unimplemented);
      const bad = encode('containerd.services.events.ttrpc.v1.ForwardRequest', { envelope: { namespace: 'default', topic: 'not-a-topic', timestamp: new Date() } });
      await assert.rejects(c.call('containerd.services.events.ttrpc.v1.Events', 'Forward', bad), (e: RpcError) => {
        assert.notEqual(e.code, Code.OK);
        assert.match(e.message, /topic/);
        return true;
      });
      // Concurrent calls on one connection to a Go server.
      const ok = encode('containerd.services.events.ttrpc.v1.ForwardRequest', {
        envelope: { namespace: 'default', topic: '/tasks/oom', timestamp: new Date(), event: { typeUrl: 'containerd.events.TaskOOM', value: encode('containerd.events.TaskOOM', { containerId: 'x' }) } },
      });
      const results = await Promise.all(Array.from({ length: 20 }, () => c.call('containerd.services.events.ttrpc.v1.Events', 'Forward', ok)));
      assert.equal(results.length, 20);
    } finally {
      c.close();
    }
  });
});
