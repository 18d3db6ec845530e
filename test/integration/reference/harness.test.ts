// The harness's own promise: a private containerd leaves nothing behind — after stop() even
// when pods are still running (hard path), and after its test process was SIGKILLed (reaped
// by the next start). Checked from the host: processes, mounts, bridge, cgroups, temp dir.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { instanceProcesses, mountsUnder, reapStaleInstances, startContainerd, type ContainerdInstance } from '../../support/containerd.js';
import { criEnv, TestPod } from '../../support/cri.js';
import { repoRoot } from '../../support/paths.js';

const isRoot = process.getuid?.() === 0;

function leftovers(x: { id: string; dir: string; bridge: string; cgroupParent: string }): string[] {
  const out: string[] = [];
  if (existsSync(x.dir)) out.push(`dir ${x.dir}`);
  const procs = instanceProcesses(x);
  if (procs.length) out.push(`processes ${procs.join(' ')}`);
  const mounts = mountsUnder(x.dir);
  if (mounts.length) out.push(`mounts ${mounts.join(' ')}`);
  try { execFileSync('ip', ['link', 'show', x.bridge], { stdio: 'ignore' }); out.push(`bridge ${x.bridge}`); } catch { /* gone */ }
  for (const h of readdirSync('/sys/fs/cgroup')) if (existsSync(join('/sys/fs/cgroup', h, x.cgroupParent))) out.push(`cgroup ${h}${x.cgroupParent}`);
  return out;
}

async function runningPod(ctd: ContainerdInstance): Promise<void> {
  const pod = await TestPod.run(criEnv(ctd, 'runc'));
  const cid = await pod.runContainer({ name: 'main', command: ['sleep', '3600'] });
  await pod.waitForState(cid, 'CONTAINER_RUNNING');
}

describe('private containerd cleanup', { skip: isRoot ? false : 'needs root' }, () => {
  test('stop() with running pods and no CRI teardown leaves nothing', { timeout: 120_000 }, async () => {
    const ctd = await startContainerd({ version: '2', removePodsOnStop: false });
    const info = { id: ctd.id, dir: ctd.dir, bridge: ctd.bridge, cgroupParent: ctd.cgroupParent };
    try {
      await runningPod(ctd);
      assert.ok(instanceProcesses(info).length >= 4, 'containerd, shim, pause and sleep are found');
      assert.ok(mountsUnder(ctd.dir).length >= 3, 'rootfs, shm and netns mounts are found');
    } finally {
      await ctd.stop();
    }
    assert.deepEqual(leftovers(info), []);
  });

  test('an instance whose test process was SIGKILLed is reaped by the next start', { timeout: 120_000 }, async () => {
    const scratch = mkdtempSync(join(tmpdir(), 'vnode-harness-'));
    try {
      const script = join(scratch, 'crash.mts');
      writeFileSync(script, `
        import { startContainerd } from ${JSON.stringify(join(repoRoot, 'test/support/containerd.ts'))};
        import { criEnv, TestPod } from ${JSON.stringify(join(repoRoot, 'test/support/cri.ts'))};
        const ctd = await startContainerd({ version: '1.7' });
        const pod = await TestPod.run(criEnv(ctd, 'runc'));
        await pod.runContainer({ name: 'main', command: ['sleep', '3600'] });
        console.log(JSON.stringify({ id: ctd.id, dir: ctd.dir, bridge: ctd.bridge, cgroupParent: ctd.cgroupParent }));
        process.kill(process.pid, 'SIGKILL');
      `);
      const r = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: repoRoot, encoding: 'utf8', timeout: 90_000 });
      assert.equal(r.signal, 'SIGKILL', r.stderr);
      const info = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { id: string; dir: string; bridge: string; cgroupParent: string };
      assert.ok(leftovers(info).length > 0, 'the killed run left its instance behind');
      reapStaleInstances();
      assert.deepEqual(leftovers(info), []);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });
});
