// vnodefs through containerd: a pod in a vNode with a 256 MiB / 1.5 CPU limit reads
// 256 MiB and 2 CPUs from /proc and /sys, its uptime is the vNode's, and the files
// that would tell about the host are empty or absent.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { isUnifiedHost } from '../../../src/cgroup/index.js';
import { describe, it } from 'node:test';
import { availableContainerdVersions } from '../../support/containerd.js';
import { managerPid, vnodeSuite } from '../../support/vnode-host.js';
import { isAlive } from '../../../src/sys/index.js';
import { managerInstance, pingManager } from '../../../src/shim/index.js';
import { sleep, TestPod, waitFor, withPod, type CriEnv } from '../../support/cri.js';

const version = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',')[0] ?? (availableContainerdVersions().includes('2') ? '2' : '1.7')) as '2' | '1.7';
const MiB = 1024 * 1024;

async function sh(env: CriEnv, cid: string, script: string): Promise<string> {
  const r = await env.cri.execSync(cid, ['sh', '-c', script], 15);
  assert.equal(r.exit_code, 0, `${script}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

describe(`vnodefs inside vNodes (containerd ${version})`, () => {
  const suite = vnodeSuite({ version });

  it('keeps sysctls written in a vNode to that vNode (all its pods), and refuses them to unprivileged containers', async () => {
    const key = '/proc/sys/vm/overcommit_ratio';
    const hostValue = readFileSync(key, 'utf8').trim();
    const mine = hostValue === '77' ? '78' : '77';
    await withPod(suite.env, { namespace: 'sysctl-a', privileged: true }, async (a) => {
      await withPod(suite.env, { namespace: 'sysctl-b' }, async (b) => {
        const ca = await a.runContainer({ name: 'a', command: ['sleep', '3600'], privileged: true });
        const cb = await b.runContainer({ name: 'b', command: ['sleep', '3600'] });
        await a.waitForState(ca, 'CONTAINER_RUNNING');
        await b.waitForState(cb, 'CONTAINER_RUNNING');
        await sh(suite.env, ca, `echo ${mine} > ${key}`);
        assert.equal((await sh(suite.env, ca, `cat ${key}`)).trim(), mine, 'the vNode reads back its own value');
        assert.equal(readFileSync(key, 'utf8').trim(), hostValue, "the host's value did not change");
        assert.equal((await sh(suite.env, cb, `cat ${key}`)).trim(), hostValue, 'another vNode does not see it');
        await withPod(suite.env, { namespace: 'sysctl-a' }, async (a2) => {
          const c2 = await a2.runContainer({ name: 'a2', command: ['sh', '-c', 'for i in $(seq 20); do sleep 3600 & done; wait'] });
          await a2.waitForState(c2, 'CONTAINER_RUNNING');
          assert.equal((await sh(suite.env, c2, `cat ${key}`)).trim(), mine, 'another pod of the same vNode sees it');
          // the load is the vNode's: pod a counts the 21 tasks of pod a2 too (vnodefs keeps a task scan for a second)
          await waitFor('pod a counts pod a2 tasks', async () => Number((await sh(suite.env, ca, 'cat /proc/loadavg')).split(' ')[3]!.split('/')[1]) >= 21, 10_000);
          const other = Number((await sh(suite.env, cb, 'cat /proc/loadavg')).split(' ')[3]!.split('/')[1]);
          assert.ok(other < 21, `another vNode does not count them (${other} tasks)`);
        });
        const w = await suite.env.cri.execSync(cb, ['sh', '-c', `echo 5 > ${key}`], 10);
        assert.notEqual(w.exit_code, 0, 'an unprivileged container cannot write sysctls');
        assert.match(w.stderr.toString(), /Read-only file system/);
        // the value outlives the manager: kill -9 it; vnode-hold starts the next one. A pod
        // started while that one takes over can fail with "ttrpc: closed" (a race left open,
        // see docs/testing.md), so the next pod waits for the next manager to answer.
        await sleep(3500);
        const before = managerPid(suite.ctd);
        process.kill(before, 'SIGKILL');
        await waitFor('manager gone', () => !isAlive(before), 5000);
        const socket = managerInstance(suite.ctd.address).socket;
        await waitFor('the next manager to answer', async () => {
          let pid = 0;
          try { pid = managerPid(suite.ctd); } catch { return false; } // between two managers
          return pid !== before && isAlive(pid) && (await pingManager(socket));
        }, 20_000, 200);
        const next = await TestPod.run(suite.env, { namespace: 'sysctl-c' });
        await next.remove();
        assert.notEqual(managerPid(suite.ctd), before);
        assert.equal((await sh(suite.env, ca, `cat ${key}`)).trim(), mine, 'the value is served again after a manager restart');
      });
    });
  });

  it('shows the container its limits, the vNode uptime, and none of the host', async () => {
    const hostMemKb = Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))![1]);
    const hostUptime = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    await withPod(suite.env, { namespace: 'view' }, async (pod) => {
      const cid = await pod.runContainer({
        name: 'v',
        command: ['sleep', '3600'],
        resources: { memory_limit_in_bytes: 256 * MiB, cpu_quota: 150_000, cpu_period: 100_000 },
      });
      await pod.waitForState(cid, 'CONTAINER_RUNNING');
      const meminfo = await sh(suite.env, cid, 'cat /proc/meminfo');
      assert.match(meminfo, /^MemTotal:\s+262144 kB$/m, meminfo);
      assert.doesNotMatch(meminfo, new RegExp(`^MemTotal:\\s+${hostMemKb} kB$`, 'm'));
      // busybox top reads /proc/meminfo (busybox free asks sysinfo(2): the seccomp supervisor's job)
      const top = await sh(suite.env, cid, 'top -bn1 | head -1');
      const m = /^Mem: (\d+)K used, (\d+)K free/.exec(top);
      assert.ok(m, top);
      assert.equal(Number(m[1]) + Number(m[2]), 262144, top);
      assert.equal((await sh(suite.env, cid, 'grep -c ^processor /proc/cpuinfo')).trim(), '2');
      assert.equal((await sh(suite.env, cid, 'cat /sys/devices/system/cpu/online')).trim(), '0-1');
      const uptime = Number((await sh(suite.env, cid, 'cat /proc/uptime')).split(' ')[0]);
      assert.ok(uptime < hostUptime && uptime < 120, `uptime ${uptime} s is the vNode's, not the host's ${hostUptime} s`);
      assert.equal(await sh(suite.env, cid, 'cat /proc/kcore /proc/modules /proc/zoneinfo /proc/slabinfo 2>/dev/null; true'), '');
      if (existsSync('/proc/pressure/cpu')) {
        // PSI of the pod's cgroup where the host has it per cgroup (v2); on v1 it reads as none
        const psi = await sh(suite.env, cid, 'cat /proc/pressure/cpu');
        assert.match(psi, /^some avg10=\d+\.\d\d avg60=\d+\.\d\d avg300=\d+\.\d\d total=\d+$/m, psi);
        if (!isUnifiedHost()) assert.match(psi, /^some avg10=0\.00 avg60=0\.00 avg300=0\.00 total=0$/m, "v1: no host PSI shows through");
      }
      assert.equal((await sh(suite.env, cid, 'ls /sys/class/dmi /sys/firmware 2>/dev/null | grep -v :; true')).trim(), '');
      // a write to a file vnodefs serves is refused with the errno a read-only file gives
      const w = await suite.env.cri.execSync(cid, ['sh', '-c', 'echo x > /proc/meminfo'], 10);
      assert.notEqual(w.exit_code, 0);
      assert.match(w.stderr.toString(), /Read-only file system|Permission denied/);
    });
  });
});
