// `vnode install --service` / `vnode uninstall` on a node whose containerd is a systemd
// unit, with systemd as PID 1 (the VM lane's guest; skipped elsewhere). The private
// containerd runs as a transient unit the way containerd.service runs it (systemd-run:
// Type=notify, KillMode=process, Delegate=yes) from a kubeadm-like config whose runc uses
// the systemd cgroup driver, so install takes the systemd paths for real:
//   - containerd restarted with `systemctl restart <unit>`, CRI reports handler vnode;
//   - vnode-manager.service written, enabled and started, and it (not a manager the shim
//     spawns) serves the vnode pod;
//   - the vnode block has SystemdCgroup = true: the vnode container is a
//     cri-containerd-<id>.scope below its pod's slice, as the runc one is;
//   - a runc pod started before the install runs on, same process, through both restarts;
//   - a second install changes nothing and restarts nothing;
//   - uninstall gives the config back (same sha256), disables and removes the unit and
//     restarts containerd again; afterwards no unit, no process, no mount is left.
// vnode-manager.service is a fixed name: the test refuses to run where one exists already.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { availableContainerdVersions, instanceProcesses, mountsUnder, unitMainPid, unitProperty, type ContainerdInstance, type ContainerdVersion } from '../../support/containerd.js';
import { TestPod } from '../../support/cri.js';
import { containerPid } from '../../support/flows.js';
import { cgroupParentRel } from '../../support/host-cgroups.js';
import { describeResult, isBuilt, startVnode, type VnodeResult } from '../cli/helpers.js';
import { liveRuntimeHandlers, SERVICE_PATH, SERVICE_UNIT } from '../../../src/install/index.js';
import { managerInstance } from '../../../src/shim/index.js';
import { freshEnv, kubeadmContainerd, removeAllPods, vnodePodRuns, type Cleanups } from './harness.js';

const isRoot = process.getuid?.() === 0;
const systemdIsInit = existsSync('/run/systemd/system');
const asked = process.env['VNODE_TEST_CONTAINERD_VERSIONS']?.split(',');
const versions = availableContainerdVersions().filter((v): v is Exclude<ContainerdVersion, '1.6'> => v !== '1.6' && (asked?.includes(v) ?? true));
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const vnode = (args: string[]): Promise<VnodeResult> => startVnode(args, { VNODE_TEST_BIN: '1' }).done;
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const systemctl = (...args: string[]) => execFileSync('systemctl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 }).trim();
const quietly = (...args: string[]) => { try { systemctl(...args); } catch { /* not loaded, not failed */ } };
const journal = (unit: string) => { try { return execFileSync('journalctl', ['-u', unit, '-n', '40', '--no-pager', '-o', 'cat'], { encoding: 'utf8', timeout: 30_000 }); } catch (err) { return String(err); } };

const cmdline = (pid: number) => { try { return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').join(' ').trim(); } catch { return '(gone)'; } };

/** Waits up to 20 s for `ok`; fails with `what` and `state()`. */
async function until(what: string, ok: () => boolean, state: () => string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!ok()) {
    if (Date.now() > deadline) { let s = ''; try { s = state(); } catch (err) { s = String(err); } assert.fail(`${what}: not within 20 s (${s})`); }
    await new Promise((r) => setTimeout(r, 200));
  }
}

const managerCgroup = `/sys/fs/cgroup/system.slice/${SERVICE_UNIT}`;

/** A cgroup directory and those below it, each with its processes' command lines. */
function cgroupTree(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    let procs: string[] = [];
    try { procs = readFileSync(join(d, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean); } catch { return; }
    out.push(`${d.slice(dir.length) || '/'}: ${procs.map((p) => `${p} ${cmdline(Number(p))}`).join('; ') || '(empty)'}`);
    try { for (const e of readdirSync(d, { withFileTypes: true })) if (e.isDirectory()) walk(join(d, e.name)); } catch { /* removed meanwhile */ }
  };
  walk(dir);
  return out.join('\n') || `${dir}: not there`;
}

/** Why the test cannot run here, if it cannot. */
function skipReason(): string | false {
  if (!isRoot) return 'needs root (containerd, runc, vNodes, systemctl)';
  if (!systemdIsInit) return 'systemd is not PID 1 here (no /run/systemd/system): the VM lane\'s guest runs this test (docs/vm-lane.md)';
  if (!isBuilt()) return 'npm run build first';
  if (versions.length === 0) return 'containerd 1.7 / 2.x missing: scripts/setup-host.sh';
  if (existsSync(SERVICE_PATH) || unitProperty(SERVICE_UNIT, 'LoadState') !== 'not-found') return `${SERVICE_UNIT} exists on this host already: the test would replace it`;
  return false;
}

/** Processes of the manager installed in `prefix` (its launcher execs the prefix's dist/bin/vnode-manager). */
function managersOf(prefix: string): number[] {
  const want = `${prefix}/dist/bin/vnode-manager`;
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
    try { return readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0').includes(want); } catch { return false; }
  }).map(Number);
}

/** The host pid of a container's task, from ctr (the shim's answer, for any runtime). */
async function taskPid(ctd: ContainerdInstance, cid: string): Promise<number> {
  const line = (await ctd.ctr('-n', 'k8s.io', 'tasks', 'ls')).split('\n').find((l) => l.startsWith(cid));
  assert.ok(line, `task ${cid} listed by ctr`);
  return Number(line.split(/\s+/)[1]);
}

/** The container's cgroup is its own scope below its pod's slice (the systemd driver). */
function assertScope(pid: number, pod: TestPod, cid: string, what: string) {
  const unit = `cri-containerd-${cid}.scope`;
  const path = readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').find((l) => l.startsWith('0::'))?.slice(3);
  assert.equal(path, `${cgroupParentRel(String(pod.config.linux!.cgroup_parent!))}/${unit}`, `${what}: a scope below the pod's slice`);
  assert.equal(systemctl('is-active', unit), 'active', `${what}: systemd holds ${unit}`);
}

const cleanups: Cleanups = [];
after(async () => { for (const c of cleanups.reverse()) { try { await c(); } catch (err) { console.error('cleanup:', err); } } });

describe('vnode install --service on a systemd node', { skip: skipReason() }, () => {
  for (const version of versions) {
    it(`containerd ${version} as a systemd unit: install --service, a second install, uninstall`, { timeout: 900_000 }, async () => {
      const unit = `vnode-test-containerd-${randomBytes(4).toString('hex')}.service`;
      // whatever happens: no manager unit left (the name is fixed), the containerd unit stopped and forgotten
      cleanups.push(() => {
        quietly('disable', '--now', SERVICE_UNIT);
        if (existsSync(SERVICE_PATH) && readFileSync(SERVICE_PATH, 'utf8').startsWith('# Written by vnode install')) { rmSync(SERVICE_PATH); quietly('daemon-reload'); }
        quietly('reset-failed', SERVICE_UNIT);
      });
      const ctd = await kubeadmContainerd(cleanups, version, undefined, { cgroupDriver: 'systemd', systemdUnit: unit });
      cleanups.push(() => { quietly('stop', unit); quietly('reset-failed', unit); });
      const firstPid = unitMainPid(unit);
      assert.equal(firstPid, ctd.pid);
      assert.deepEqual(['Type', 'KillMode', 'Delegate'].map((k) => unitProperty(unit, k)), ['notify', 'process', 'yes'], 'containerd runs as containerd.service does');
      assert.match(readFileSync(ctd.configPath, 'utf8'), /SystemdCgroup = true/, 'the node\'s runc uses the systemd cgroup driver');
      const originalSha = sha(ctd.configPath);
      const prefix = mkdtempSync(join(tmpdir(), 'vnode-prefix-'));
      cleanups.push(() => rmSync(prefix, { recursive: true, force: true }));
      const flags = ['--containerd-config', ctd.configPath, '--prefix', prefix, '--timeout', '180s'];

      // a runc pod before the install, in a systemd scope
      const runcEnv = await freshEnv(ctd, 'runc');
      const runcPod = await TestPod.run(runcEnv, { namespace: 'infra' });
      const runcCid = await runcPod.runContainer({ name: 'web', image: ctd.images.busybox, command: ['sleep', '3600'] });
      await runcPod.waitForState(runcCid, 'CONTAINER_RUNNING');
      const runcPid = await containerPid(runcEnv, runcCid);
      assertScope(runcPid, runcPod, runcCid, 'the runc container');
      runcEnv.close();

      const first = await vnode(['install', ...flags, '--service']);
      console.log(`# vnode install ${flags.join(' ')} --service\n${first.stderr}${first.stdout}`);
      assert.equal(first.code, 0, `${describeResult(first)}\n--- ${unit} ---\n${journal(unit)}`);
      const newPid = unitMainPid(unit);
      assert.ok(newPid > 0 && newPid !== firstPid, `systemd runs another containerd (${firstPid} → ${newPid})`);
      assert.match(first.stdout, new RegExp(`^containerd ${version === '2' ? '2\\.' : '1\\.7\\.'}\\S* \\(pid ${newPid}\\), config ${ctd.configPath} \\(version ${version === '2' ? 3 : 2}\\)$`, 'm'));
      assert.match(first.stderr, new RegExp(`^restarting containerd: systemctl restart ${unit.replace(/\./g, '\\.')}$`, 'm'));
      assert.match(first.stdout, new RegExp(`^containerd restarted \\(pid ${firstPid} → ${newPid}; CRI reports runtime handler vnode\\)$`, 'm'));
      assert.match(first.stdout, /^config \S+ configured \(runtime vnode added, backup \S+\.vnode-backup\)$/m);
      assert.match(first.stdout, new RegExp(`^service ${SERVICE_PATH} created \\(${SERVICE_UNIT} enabled and \\(re\\)started\\)$`, 'm'));
      assert.match(readFileSync(ctd.configPath, 'utf8'), /runtimes\.vnode\.options\]\n\s*SystemdCgroup = true\n# <<< vnode runtime <<<\n$/, 'the vnode runtime follows the node\'s systemd cgroup driver');
      const installed = readFileSync(ctd.configPath);

      // the manager service
      assert.equal(systemctl('is-active', SERVICE_UNIT), 'active', journal(SERVICE_UNIT));
      assert.equal(systemctl('is-enabled', SERVICE_UNIT), 'enabled');
      const unitText = readFileSync(SERVICE_PATH, 'utf8');
      assert.match(unitText, new RegExp(`^After=${unit.replace(/\./g, '\\.')}$`, 'm'), 'the manager starts after the unit that runs containerd');
      assert.match(unitText, new RegExp(`^ExecStart=${prefix}/bin/vnode-manager$`, 'm'));
      assert.match(unitText, new RegExp(`^Environment=VNODE_CNI_CONF_DIR=${prefix}/etc/cni/net\\.d$`, 'm'));
      const managerPid = unitMainPid(SERVICE_UNIT);
      assert.ok(managerPid > 0);

      // after the restart: the runc pod, then a vnode pod on the restarted containerd
      const env = await freshEnv(ctd, 'vnode');
      assert.ok((await liveRuntimeHandlers(env.cri)).includes('vnode'));
      assert.equal((await env.cri.containerStatus(runcCid)).status?.state, 'CONTAINER_RUNNING', 'the runc pod survived the restart');
      assert.ok(alive(runcPid), 'its process is the same one');
      env.close();
      let pod: TestPod;
      try {
        pod = await vnodePodRuns(ctd);
      } catch (err) {
        (err as Error).message += `\n--- ${SERVICE_UNIT} ---\n${journal(SERVICE_UNIT)}\n--- ${unit} ---\n${journal(unit)}`;
        throw err;
      }
      const cid = pod.containers.get('main')!;
      console.log(`# ${SERVICE_UNIT}'s cgroup with a vnode pod running:\n${cgroupTree(managerCgroup)}`);
      assertScope(await taskPid(ctd, cid), pod, cid, 'the vnode container');
      assert.deepEqual(managersOf(prefix), [managerPid], 'the service\'s manager serves the pod (the shim spawned none)');
      assert.equal(unitMainPid(SERVICE_UNIT), managerPid);
      const doc = await vnode(['doctor', '-o', 'json', '--prefix', prefix]);
      const checks = (JSON.parse(doc.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks;
      for (const name of ['vnode handler', 'vnode shim', 'vnode CNI', 'vnode manager']) {
        const c = checks.find((x) => x.name === name);
        assert.equal(c?.status, 'OK', `doctor on the installed node: ${name}: ${JSON.stringify(c)}`);
      }

      // a second install: nothing changed, nothing restarted
      const second = await vnode(['install', ...flags, '--service']);
      console.log(`# vnode install ${flags.join(' ')} --service (again)\n${second.stderr}${second.stdout}`);
      assert.equal(second.code, 0, describeResult(second));
      assert.match(second.stdout, /^vnode install: nothing changed$/m);
      assert.match(second.stdout, new RegExp(`^service ${SERVICE_PATH} unchanged$`, 'm'));
      assert.doesNotMatch(second.stdout, / (configured|created|restarted)\b/);
      assert.doesNotMatch(second.stderr, /restarting/);
      assert.ok(readFileSync(ctd.configPath).equals(installed));
      assert.equal(unitMainPid(unit), newPid, 'containerd was not restarted');
      assert.equal(unitMainPid(SERVICE_UNIT), managerPid, 'nor the manager');

      // the manager dies (kill -9): systemd starts the next one, which takes the pod over;
      // no second manager is spawned beside it
      systemctl('kill', '--kill-whom=main', '--signal=SIGKILL', SERVICE_UNIT);
      await until('systemd restarted the manager', () => { const p = unitMainPid(SERVICE_UNIT); return p > 0 && p !== managerPid && systemctl('is-active', SERVICE_UNIT) === 'active'; }, () => `${systemctl('show', '-p', 'MainPID', '-p', 'ActiveState', '-p', 'NRestarts', SERVICE_UNIT)}\n${journal(SERVICE_UNIT)}`);
      const nextManager = unitMainPid(SERVICE_UNIT);
      const exec = await pod.env.cri.execSync(cid, ['cat', '/proc/self/uid_map'], 60);
      assert.match(exec.stdout.toString(), /^\s*0\s+\d+\s+65536/, 'the next manager serves the vnode container');
      await new Promise((r) => setTimeout(r, 7_000)); // past vnode-hold's respawn (300 ms after the death, then every 5 s)
      assert.deepEqual(managersOf(prefix), [nextManager], `one manager, the unit's\n${cgroupTree(managerCgroup)}`);

      await pod.remove();
      pod.env.cri.close();
      const un = await vnode(['uninstall', ...flags]);
      console.log(`# vnode uninstall ${flags.join(' ')}\n${un.stderr}${un.stdout}`);
      assert.equal(un.code, 0, `${describeResult(un)}\n--- ${unit} ---\n${journal(unit)}`);
      const lastPid = unitMainPid(unit);
      assert.ok(lastPid > 0 && lastPid !== newPid);
      assert.match(un.stderr, new RegExp(`^restarting containerd: systemctl restart ${unit.replace(/\./g, '\\.')}$`, 'm'));
      assert.match(un.stdout, /^config \S+ restored \(from \S+\.vnode-backup/m);
      assert.match(un.stdout, new RegExp(`^service ${SERVICE_PATH} removed$`, 'm'));
      assert.match(un.stdout, new RegExp(`^containerd restarted \\(pid ${newPid} → ${lastPid}; runtime handler vnode gone\\)$`, 'm'));
      assert.equal(sha(ctd.configPath), originalSha, 'uninstall gives back the same bytes');
      assert.ok(!existsSync(SERVICE_PATH), 'the unit file is gone');
      assert.equal(unitProperty(SERVICE_UNIT, 'LoadState'), 'not-found', 'systemd no longer knows the manager unit');
      assert.deepEqual(managersOf(prefix), [], 'no manager runs');
      await until('the manager unit\'s cgroup is gone (nothing of it runs on)', () => !existsSync(managerCgroup), () => `${cgroupTree(managerCgroup)}\n--- ${SERVICE_UNIT} ---\n${journal(SERVICE_UNIT)}`);
      assert.ok(!existsSync(prefix), 'the prefix is removed');
      const afterEnv = await freshEnv(ctd, 'runc');
      assert.ok(!(await liveRuntimeHandlers(afterEnv.cri)).includes('vnode'));
      assert.equal((await afterEnv.cri.containerStatus(runcCid)).status?.state, 'CONTAINER_RUNNING', 'the runc pod survived both restarts');
      assert.ok(alive(runcPid), 'same process');
      afterEnv.close();

      await removeAllPods(ctd);
      await ctd.stop();
      await until(`${unit} is gone`, () => unitProperty(unit, 'LoadState') === 'not-found', () => unitProperty(unit, 'ActiveState'));
      assert.deepEqual(instanceProcesses(ctd), [], 'no process of the instance is left');
      assert.deepEqual(mountsUnder(ctd.dir), [], 'no mount below the instance');
      assert.deepEqual(mountsUnder(managerInstance(ctd.address).dir), [], 'no mount below the manager\'s run dir');
      assert.ok(!existsSync(ctd.dir));
    });
  }
});
