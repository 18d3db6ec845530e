// The whole Task API through a real containerd without CRI (what ctr and nerdctl use):
// detached run, Pids, exec with its exit code, pause/resume, metrics, kill, delete,
// and the events containerd receives for each.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { availableContainerdVersions, startContainerd, type ContainerdInstance } from '../../support/containerd.js';
import { waitFor } from '../../support/cri.js';
import { vnodeRecords } from '../../support/vnode-host.js';

const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions().filter((v) => v !== '1.6')) as ('2' | '1.7')[];

/** Runs ctr and resolves with its exit code and output (ctr exits with an exec'd process's status). */
function ctrStatus(ctd: ContainerdInstance, args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(ctd.ctrPath, ['--address', ctd.address, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('close', (code) => resolve({ code, out }));
  });
}

function taskStatus(list: string, id: string): string | undefined {
  return list.split('\n').find((l) => l.startsWith(`${id} `))?.trim().split(/\s+/)[2];
}

for (const version of versions) {
  describe(`Task API through ctr on containerd ${version}`, () => {
    let ctd: ContainerdInstance;
    before(async () => {
      ctd = await startContainerd({ version });
    });
    after(async () => {
      await ctd?.stop();
    });

    it('serves run -d, ps, exec, pause/resume, metrics, kill and delete, publishing every event', async () => {
      const ns = ['-n', 'k8s.io'];
      const events = spawn(ctd.ctrPath, ['--address', ctd.address, 'events'], { stdio: ['ignore', 'pipe', 'ignore'] });
      let seen = '';
      events.stdout.on('data', (d: Buffer) => (seen += d.toString()));
      try {
        await ctd.ctr(...ns, 'run', '-d', '--runtime', 'io.containerd.vnode.v2', ctd.images.busybox, 'api1', 'sleep', '3600');
        assert.equal(taskStatus(await ctd.ctr(...ns, 'tasks', 'ls'), 'api1'), 'RUNNING');
        assert.equal(vnodeRecords(ctd)[0]?.key, 'ctr/k8s.io');

        const ps = await ctd.ctr(...ns, 'tasks', 'ps', 'api1');
        const pids = ps.split('\n').slice(1).filter(Boolean).map((l) => Number(l.trim().split(/\s+/)[0]));
        assert.ok(pids.length >= 1 && pids.every((p) => p > 1), ps);

        const ok = await ctrStatus(ctd, [...ns, 'tasks', 'exec', '--exec-id', 'e1', 'api1', 'sh', '-c', 'echo from-exec; exit 5']);
        assert.equal(ok.code, 5, ok.out);
        assert.match(ok.out, /from-exec/);

        await ctd.ctr(...ns, 'tasks', 'pause', 'api1');
        assert.equal(taskStatus(await ctd.ctr(...ns, 'tasks', 'ls'), 'api1'), 'PAUSED');
        await ctd.ctr(...ns, 'tasks', 'resume', 'api1');
        assert.equal(taskStatus(await ctd.ctr(...ns, 'tasks', 'ls'), 'api1'), 'RUNNING');

        const metrics = await ctd.ctr(...ns, 'tasks', 'metrics', 'api1');
        assert.match(metrics, /memory\.usage_in_bytes|memory\.usage/, metrics);

        await ctd.ctr(...ns, 'tasks', 'kill', '-s', 'SIGKILL', 'api1');
        await waitFor('task stopped', async () => taskStatus(await ctd.ctr(...ns, 'tasks', 'ls'), 'api1') === 'STOPPED', 10_000);
        await ctd.ctr(...ns, 'tasks', 'delete', 'api1');
        await ctd.ctr(...ns, 'containers', 'rm', 'api1');
        assert.deepEqual(vnodeRecords(ctd), []);

        await waitFor('events', () => seen.includes('/tasks/delete'), 10_000);
        for (const topic of ['/tasks/create', '/tasks/start', '/tasks/exec-added', '/tasks/exec-started', '/tasks/paused', '/tasks/resumed', '/tasks/exit', '/tasks/delete']) {
          assert.ok(seen.includes(topic), `event ${topic} missing from:\n${seen}`);
        }
        assert.match(seen, /\/tasks\/exit .*"exit_status":5/, 'the exec exit code is in its TaskExit event');
        assert.match(seen, /\/tasks\/exit .*"exit_status":137/, 'SIGKILL gives 137');
      } finally {
        events.kill();
      }
    });
  });
}
