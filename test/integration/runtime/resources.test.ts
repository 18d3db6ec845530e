// CPU and memory limits from CRI land in the container's cgroup, UpdateContainerResources
// changes them, ContainerStats reports real usage, and an OOM kill is exit 137 / OOMKilled.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { controllerDir, locationFromProcCgroup, type V1Controller } from '../../../src/cgroup/index.js';
import { availableContainerdVersions, type ContainerdInstance } from '../../support/containerd.js';
import { vnodeSuite } from '../../support/vnode-host.js';
import { waitFor, withPod } from '../../support/cri.js';

const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions().filter((v) => v !== '1.6')) as ('2' | '1.7')[];
const MiB = 1024 * 1024;

async function hostPidOf(ctd: ContainerdInstance, cid: string): Promise<number> {
  const line = (await ctd.ctr('-n', 'k8s.io', 'tasks', 'ls')).split('\n').find((l) => l.startsWith(cid));
  assert.ok(line, `task ${cid} listed by ctr`);
  return Number(line.split(/\s+/)[1]);
}

function cgroupFile(pid: number, ctrl: V1Controller, file: string): string {
  const loc = locationFromProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  assert.ok(loc, `pid ${pid} is in a cgroup`);
  const dir = controllerDir(loc, ctrl);
  return readFileSync(join(dir!, file), 'utf8').trim();
}

for (const version of versions) {
  describe(`resources on containerd ${version}`, () => {
    const suite = vnodeSuite({ version });

    it('applies CPU and memory limits, updates them, and reports stats', async () => {
      await withPod(suite.env, { namespace: 'limits' }, async (pod) => {
        const cid = await pod.runContainer({
          name: 'busy',
          command: ['sh', '-c', 'while true; do :; done'],
          resources: { memory_limit_in_bytes: 96 * MiB, cpu_quota: 50_000, cpu_period: 100_000, cpu_shares: 512 },
        });
        await pod.waitForState(cid, 'CONTAINER_RUNNING');
        const pid = await hostPidOf(suite.ctd, cid);
        assert.equal(Number(cgroupFile(pid, 'memory', 'memory.limit_in_bytes')), 96 * MiB);
        assert.equal(cgroupFile(pid, 'cpu', 'cpu.cfs_quota_us'), '50000');
        assert.equal(cgroupFile(pid, 'cpu', 'cpu.shares'), '512');

        await suite.env.cri.updateContainerResources(cid, { memory_limit_in_bytes: 128 * MiB, cpu_quota: 20_000, cpu_period: 100_000, cpu_shares: 256 });
        assert.equal(Number(cgroupFile(pid, 'memory', 'memory.limit_in_bytes')), 128 * MiB);
        assert.equal(cgroupFile(pid, 'cpu', 'cpu.cfs_quota_us'), '20000');

        const stats = await waitFor('cpu usage in stats', async () => {
          const s = await suite.env.cri.containerStats(cid);
          return Number(s.cpu?.usage_core_nano_seconds?.value ?? 0) > 0 ? s : undefined;
        }, 20_000);
        assert.ok(Number(stats.memory?.working_set_bytes?.value ?? 0) > 0, 'memory working set reported');
        assert.equal(stats.attributes?.id, cid);
      });
    });

    it('reports an OOM kill as exit 137 with reason OOMKilled', async () => {
      await withPod(suite.env, { namespace: 'oom' }, async (pod) => {
        const cid = await pod.runContainer({
          name: 'hog',
          // busybox sh keeps the whole output of the substitution in memory
          command: ['sh', '-c', 'x=$(head -c 200000000 /dev/zero | tr "\\0" x); echo survived'],
          resources: { memory_limit_in_bytes: 32 * MiB },
        });
        const st = await pod.waitForExit(cid, 60_000);
        assert.equal(st.exit_code, 137);
        assert.equal(st.reason, 'OOMKilled');
      });
    });
  });
}
