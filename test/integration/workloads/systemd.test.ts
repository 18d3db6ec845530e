// systemd as PID 1 in a vNode pod (docs/privileged-workloads.md), through CRI: Debian's
// systemd boots to multi-user.target in a privileged container, `systemctl start` of a unit
// works and journald records it, its cgroups are below the container's on the host, and
// `systemctl poweroff` ends that container only: another pod (of the same vNode, in
// namespace mode) runs on.
// containerd 2.x with a vNode per namespace, 1.7 with a vNode per pod (VNODE_PER_POD).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hostCgroupLayout } from '../../../src/cgroup/index.js';
import { withPod, waitFor, type CriEnv } from '../../support/cri.js';
import { containerPid } from '../../support/flows.js';
import { vnodeSuite } from '../../support/vnode-host.js';
import { cgroupDirsOf, execSh, gained, hostCgroupsMatching, hostSnapshot, importDebianImage, workloadLanes } from '../../support/workloads.js';
import { join } from 'node:path';
import { instanceDir } from '../../support/vnode-host.js';

const lanes = workloadLanes();

const sh = (env: CriEnv, cid: string, script: string, timeoutSec = 60) => execSh(env, cid, script, timeoutSec);

for (const lane of lanes) {
  describe(`systemd as PID 1 on containerd ${lane.version} (${lane.perPod ? 'a vNode per pod' : 'a vNode per namespace'}, ${hostCgroupLayout().mode})`, () => {
    const suite = vnodeSuite({ version: lane.version, env: lane.perPod ? { VNODE_PER_POD: 'true' } : {} });

    it('boots to multi-user.target, starts a unit with journald, and poweroff ends only its own container', { timeout: 300_000 }, async () => {
      const image = await importDebianImage(suite.ctd.ctr, 'systemd');
      const before = hostSnapshot();
      // a host booted with systemd (the VM lane's guest) has its own system.slice: only new ones count
      const slicesBefore = hostCgroupsMatching(/^(hello\.service|system\.slice)$/);
      await withPod(suite.env, { namespace: 'vm' }, async (neighbour) => {
        const other = await neighbour.runContainer({ name: 'neighbour', command: ['sleep', '3600'] });
        await withPod(suite.env, { namespace: 'vm', privileged: true }, async (pod) => {
          const cid = await pod.runContainer({ name: 'init', image, command: ['/sbin/init'], privileged: true, env: { container: 'vnode' } });
          const state = await waitFor('systemd finished booting', async () => {
            const r = await sh(suite.env, cid, 'systemctl is-system-running 2>/dev/null', 10).catch(() => undefined);
            return r && ['running', 'degraded'].includes(r.out) ? r.out : undefined;
          }, 120_000, 1000);
          const failed = await sh(suite.env, cid, 'systemctl --failed --no-legend --plain --no-pager');
          assert.equal(state, 'running', `systemctl is-system-running; failed units:\n${failed.out}`);
          assert.equal((await sh(suite.env, cid, 'systemctl is-active multi-user.target')).out, 'active');
          assert.equal((await sh(suite.env, cid, 'cat /proc/1/comm')).out, 'systemd');

          const unit = await sh(suite.env, cid, [
            'printf "[Service]\\nExecStart=/bin/sh -c \\"echo hello-from-a-unit; exec sleep 3600\\"\\n" > /etc/systemd/system/hello.service',
            'systemctl daemon-reload && systemctl start hello.service && echo "active=$(systemctl is-active hello.service)"',
            'for i in $(seq 50); do journalctl -u hello.service --no-pager -o cat | grep -q hello-from-a-unit && break; sleep 0.2; done',
            'echo "journal=$(journalctl -u hello.service --no-pager -o cat | grep hello-from-a-unit)"',
            'echo "cgroup=$(systemctl show -p ControlGroup --value hello.service)"',
            'echo "mainpid=$(systemctl show -p MainPID --value hello.service)"',
          ].join('\n'));
          const kv = Object.fromEntries(unit.out.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
          assert.equal(kv['active'], 'active', `${unit.out}\n${unit.err}`);
          assert.equal(kv['journal'], 'hello-from-a-unit', 'journald has the unit\'s output');
          assert.equal(kv['cgroup'], '/system.slice/hello.service');

          // on the host, systemd's cgroups are inside the container's own
          // (systemd moved itself into init.scope, a child of the container's cgroup)
          const dirs = cgroupDirsOf(await containerPid(suite.env, cid)).map((d) => d.replace(/\/init\.scope$/, ''));
          const units = hostCgroupsMatching(/^hello\.service$/);
          assert.ok(units.length > 0, 'the unit has its cgroup');
          for (const p of units) assert.ok(dirs.some((d) => p.startsWith(`${d}/`)), `${p} is inside the container's cgroup`);
          const now = gained(before, hostSnapshot());
          assert.deepEqual(now.iptables, [], 'no iptables rule on the host');

          // poweroff ends this container, and nothing else
          await sh(suite.env, cid, 'systemctl poweroff', 30).catch(() => undefined);
          const st = await pod.waitForExit(cid, 60_000);
          assert.ok(st.exit_code !== undefined, `exited with ${st.exit_code}`);
          assert.equal((await neighbour.status(other)).state, 'CONTAINER_RUNNING', 'the other pod of the vNode runs on');
          assert.equal((await suite.env.cri.execSync(other, ['true'], 10)).exit_code, 0);
        });
      });
      const after = gained(before, hostSnapshot());
      const managerMount = `/ ${join(instanceDir(suite.ctd), 'vnodefs')}`;
      assert.deepEqual(after.mounts.filter((m) => m !== managerMount), [], `no mount left: ${after.mounts.join('\n')}`);
      assert.deepEqual(hostCgroupsMatching(/^(hello\.service|system\.slice)$/).filter((d) => !slicesBefore.includes(d)), [], 'no systemd cgroup left on the host');
    });
  });
}
