// CPU and memory limits from CRI land in the container's cgroup, UpdateContainerResources
// changes them, ContainerStats reports real usage, and an OOM kill is exit 137 / OOMKilled.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { controllerDir, locationFromProcCgroup, type CgroupLocation, type V1Controller } from '../../../src/cgroup/index.js';
import { availableContainerdVersions, type ContainerdInstance } from '../../support/containerd.js';
import { vnodeSuite } from '../../support/vnode-host.js';
import { waitFor, withPod } from '../../support/cri.js';
import { cgroupParentRel } from '../../support/host-cgroups.js';

const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions().filter((v) => v !== '1.6')) as ('2' | '1.7')[];
const MiB = 1024 * 1024;

async function hostPidOf(ctd: ContainerdInstance, cid: string): Promise<number> {
  const line = (await ctd.ctr('-n', 'k8s.io', 'tasks', 'ls')).split('\n').find((l) => l.startsWith(cid));
  assert.ok(line, `task ${cid} listed by ctr`);
  return Number(line.split(/\s+/)[1]);
}

function cgroupFile(loc: CgroupLocation, ctrl: V1Controller, file: string): string {
  return readFileSync(join(controllerDir(loc, ctrl)!, file), 'utf8').trim();
}

interface CgroupLimits {
  memoryBytes: number;
  cpuQuotaUs: number;
  /** v1 cpu.shares, or v2 cpu.weight. */
  cpuShare: number;
}

/** The limits of the process's cgroup, from v1's or v2's files. */
function limitsOf(pid: number): CgroupLimits {
  const loc = locationFromProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  assert.ok(loc, `pid ${pid} is in a cgroup`);
  if (loc.version === 1) {
    return {
      memoryBytes: Number(cgroupFile(loc, 'memory', 'memory.limit_in_bytes')),
      cpuQuotaUs: Number(cgroupFile(loc, 'cpu', 'cpu.cfs_quota_us')),
      cpuShare: Number(cgroupFile(loc, 'cpu', 'cpu.shares')),
    };
  }
  return {
    memoryBytes: Number(cgroupFile(loc, 'memory', 'memory.max')),
    cpuQuotaUs: Number(cgroupFile(loc, 'cpu', 'cpu.max').split(' ')[0]),
    cpuShare: Number(cgroupFile(loc, 'cpu', 'cpu.weight')),
  };
}

/**
 * What CRI's cpu_shares becomes: itself on v1; on v2 runc's cpu.weight, which runc
 * before 1.3.2 computes linearly and later releases on a log scale (512 → 20 or 59).
 */
function expectedShare(pid: number, shares: number): number[] {
  if (locationFromProcCgroup(readFileSync(`/proc/${pid}/cgroup`, 'utf8'))?.version === 1) return [shares];
  const linear = 1 + Math.floor(((shares - 2) * 9999) / 262142);
  const l = Math.log2(shares);
  const logScale = Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
  return [linear, logScale];
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
        const before = limitsOf(pid);
        assert.equal(before.memoryBytes, 96 * MiB);
        assert.equal(before.cpuQuotaUs, 50_000);
        assert.ok(expectedShare(pid, 512).includes(before.cpuShare), `cpu share ${before.cpuShare} for cpu_shares 512`);

        await suite.env.cri.updateContainerResources(cid, { memory_limit_in_bytes: 128 * MiB, cpu_quota: 20_000, cpu_period: 100_000, cpu_shares: 256 });
        if (suite.ctd.cgroupDriver === 'systemd') {
          // the systemd driver: the container is its own scope below the pod's slice, and
          // systemd holds the updated limits as unit properties (a daemon-reload keeps them)
          const unit = `cri-containerd-${cid}.scope`;
          const path = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split(':').pop();
          assert.equal(path, `${cgroupParentRel(String(pod.config.linux!.cgroup_parent!))}/${unit}`);
          assert.equal(execFileSync('systemctl', ['is-active', unit], { encoding: 'utf8' }).trim(), 'active');
          const props = execFileSync('systemctl', ['show', '-p', 'MemoryMax', '-p', 'CPUQuotaPerSecUSec', unit], { encoding: 'utf8' });
          assert.match(props, new RegExp(`^MemoryMax=${128 * MiB}$`, 'm'));
          assert.match(props, /^CPUQuotaPerSecUSec=200ms$/m);
        }
        const after = limitsOf(pid);
        assert.equal(after.memoryBytes, 128 * MiB);
        assert.equal(after.cpuQuotaUs, 20_000);
        assert.ok(expectedShare(pid, 256).includes(after.cpuShare), `cpu share ${after.cpuShare} for cpu_shares 256`);

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
