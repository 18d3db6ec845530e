// `vnode install` / `vnode uninstall` (the built bin/vnode, as an operator runs it) against
// private containerd 1.6, 1.7 (config version 2) and 2.x (version 3), each started from a
// hand-written kubeadm-like config. containerd is not run by systemd here, so install
// restarts it by re-exec (SIGTERM, the same command line again).
//   - a runc pod started before the install still runs after containerd's restart;
//   - the restarted containerd reports the vnode handler and runs a vnode pod through CRI,
//     with the shim reachable only through runtime_path (containerd's PATH has no vnode);
//   - a second install changes nothing; uninstall refuses while a vnode pod runs, then
//     gives back the config with the same sha256 and removes the prefix.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { availableContainerdVersions } from '../../support/containerd.js';
import { TestPod } from '../../support/cri.js';
import { managerInstance } from '../../../src/shim/index.js';
import { containerPid } from '../../support/flows.js';
import { describeResult, isBuilt, startVnode, type VnodeResult } from '../cli/helpers.js';
import { liveRuntimeHandlers } from '../../../src/install/index.js';
import { freshEnv, kubeadmContainerd, removeAllPods, vnodePodRuns, type Cleanups } from './harness.js';

const isRoot = process.getuid?.() === 0;
const versions = availableContainerdVersions();
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const vnode = (args: string[]): Promise<VnodeResult> => startVnode(args, { VNODE_TEST_BIN: '1' }).done;
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

const cleanups: Cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

describe('vnode install / uninstall on a node', { skip: !isRoot ? 'needs root (containerd, runc, vNodes)' : !isBuilt() ? 'npm run build first' : false }, () => {
  for (const version of versions) {
    it(`containerd ${version}: install, a second install, uninstall`, { timeout: 240_000 }, async () => {
      const ctd = await kubeadmContainerd(cleanups, version);
      const original = readFileSync(ctd.configPath);
      const originalSha = sha(ctd.configPath);
      const prefix = mkdtempSync(join(tmpdir(), 'vnode-prefix-'));
      cleanups.push(() => rmSync(prefix, { recursive: true, force: true }));
      const flags = ['--containerd-config', ctd.configPath, '--prefix', prefix];

      // a runc pod before the install
      const runcEnv = await freshEnv(ctd, 'runc');
      const runcPod = await TestPod.run(runcEnv, { namespace: 'infra' });
      const runcCid = await runcPod.runContainer({ name: 'web', image: ctd.images.busybox, command: ['sleep', '3600'] });
      await runcPod.waitForState(runcCid, 'CONTAINER_RUNNING');
      const runcPid = await containerPid(runcEnv, runcCid);
      runcEnv.close();

      const first = await vnode(['install', ...flags]);
      assert.equal(first.code, 0, describeResult(first));
      assert.match(first.stdout, new RegExp(`^containerd ${version === '2' ? '2\\.' : version.replace('.', '\\.')}\\S* \\(pid \\d+\\), config ${ctd.configPath} \\(version ${version === '2' ? 3 : 2}\\)$`, 'm'));
      assert.match(first.stdout, /^config \S+ configured \(runtime vnode added, backup \S+\.vnode-backup\)$/m);
      assert.match(first.stdout, /^cni \S+ configured \(bridge → vnode-cni\)$/m);
      assert.match(first.stdout, /^containerd restarted \(pid \d+ → \d+; CRI reports runtime handler vnode\)$/m);
      assert.match(first.stderr, /^restarting containerd: SIGTERM pid \d+/m);
      const installed = readFileSync(ctd.configPath);
      assert.ok(installed.subarray(0, original.length).equals(original), 'the original bytes are kept as they were');
      assert.match(installed.toString(), version === '2' ? /\[plugins\.'io\.containerd\.cri\.v1\.runtime'\.containerd\.runtimes\.vnode\]/ : /\[plugins\."io\.containerd\.grpc\.v1\.cri"\.containerd\.runtimes\.vnode\]/);
      assert.doesNotMatch(installed.toString(), /SystemdCgroup = true\n# <<</, 'the node\'s default runtime (runc) uses cgroupfs, so vnode does too');
      assert.equal(readFileSync(`${ctd.configPath}.vnode-backup`).toString(), original.toString());

      const env = await freshEnv(ctd, 'vnode');
      assert.ok((await liveRuntimeHandlers(env.cri)).includes('vnode'));
      if (version === '2') {
        // declared as io.containerd.runc.v2 + runtime_path, so CRI 2.1-2.3 list its features (kubelet 1.36 needs them for hostUsers: false)
        assert.match(installed.toString(), /runtime_type = ["']io\.containerd\.runc\.v2["']\n\s*runtime_path = ["'][^"']*\/bin\/containerd-shim-vnode-v2["']/);
        const features = (await env.cri.status()).runtime_handlers?.find((h) => h.name === 'vnode')?.features;
        assert.deepEqual(features, { recursive_read_only_mounts: true, user_namespaces: true });
      }
      const st = await env.cri.containerStatus(runcCid);
      assert.equal(st.status?.state, 'CONTAINER_RUNNING', 'the runc pod survived the restart');
      assert.ok(alive(runcPid), 'its process is the same one');
      env.close();

      const pod = await vnodePodRuns(ctd);
      const doc = await vnode(['doctor', '-o', 'json', '--prefix', prefix]);
      const checks = (JSON.parse(doc.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks;
      for (const name of ['vnode handler', 'vnode shim', 'vnode CNI', 'vnode manager']) {
        const c = checks.find((x) => x.name === name);
        assert.equal(c?.status, 'OK', `doctor on the installed node: ${name}: ${JSON.stringify(c)}`);
      }
      assert.match(checks.find((x) => x.name === 'vnode CNI')!.detail, /: bridge → vnode-cni; /);

      const second = await vnode(['install', ...flags]);
      assert.equal(second.code, 0, describeResult(second));
      assert.match(second.stdout, /^vnode install: nothing changed$/m);
      assert.doesNotMatch(second.stdout, / (configured|created|restarted)\b/);
      assert.ok(readFileSync(ctd.configPath).equals(installed));
      const asJson = await vnode(['install', ...flags, '-o', 'json']);
      assert.equal(asJson.code, 0, describeResult(asJson));
      const j = JSON.parse(asJson.stdout) as { changed: boolean; containerd: { format: number }; steps: { what: string; action: string }[] };
      assert.equal(j.changed, false);
      assert.equal(j.containerd.format, version === '2' ? 3 : 2);
      assert.ok(j.steps.every((x) => x.action === 'unchanged'));

      const refused = await vnode(['uninstall', ...flags]);
      assert.equal(refused.code, 1, describeResult(refused));
      assert.match(refused.stderr, /1 vNode pod\(s\) still run \(tenant-a\/pod-\w+\).*--force \[PODS_RUNNING\]/);
      assert.ok(readFileSync(ctd.configPath).equals(installed), 'a refused uninstall changes nothing');
      pod.env.cri.close();

      // --force: every vNode pod (the running one, and one already stopped: NOTREADY) is
      // stopped and removed through CRI first, then the idle manager stops
      const stoppedEnv = await freshEnv(ctd, 'vnode');
      const stopped = await TestPod.run(stoppedEnv, { namespace: 'tenant-b' });
      await stoppedEnv.cri.stopPodSandbox(stopped.id);
      stoppedEnv.close();
      const manager = managerInstance(ctd.address, {});
      const managerPid = Number(readFileSync(manager.pidFile, 'utf8').trim().split(/\s+/)[0]);
      assert.ok(alive(managerPid), 'the manager serves the pod');
      const un = await vnode(['uninstall', ...flags, '--force']);
      assert.equal(un.code, 0, describeResult(un));
      assert.match(un.stdout, /^pods removed \(2 vNode pod\(s\) stopped and removed \(--force\)\)$/m);
      assert.match(un.stderr, /^removing vNode pod tenant-a\/pod-\w+ \([12]\/2\)$/m);
      assert.match(un.stderr, /^removing vNode pod tenant-b\/pod-\w+ \([12]\/2\)$/m);
      assert.match(un.stdout, new RegExp(`^manager stopped \\(pid ${managerPid}, no vNode pod left\\)$`, 'm'));
      assert.ok(!alive(managerPid), 'the manager is gone');
      assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), new RegExp(manager.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no mount of the manager (vnodefs, rootfs) is left');
      assert.match(un.stdout, /^config \S+ restored \(from \S+\.vnode-backup/m);
      assert.match(un.stdout, /^containerd restarted \(pid \d+ → \d+; runtime handler vnode gone\)$/m);
      assert.equal(sha(ctd.configPath), originalSha, 'uninstall gives back the same bytes');
      assert.ok(!existsSync(`${ctd.configPath}.vnode-backup`));
      assert.ok(!existsSync(prefix), 'the prefix is removed');
      const after = await freshEnv(ctd, 'runc');
      assert.ok(!(await liveRuntimeHandlers(after.cri)).includes('vnode'));
      assert.equal((await after.cri.containerStatus(runcCid)).status?.state, 'CONTAINER_RUNNING', 'the runc pod survived both restarts');
      after.close();
      await removeAllPods(ctd);
      await ctd.stop();
    });
  }

  it('uninstall after someone edited the config: only the vnode block goes, the edit stays; --no-restart leaves containerd alone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnode-edited-'));
    try {
      mkdirSync(join(dir, 'etc/cni/net.d'), { recursive: true });
      writeFileSync(join(dir, 'etc/cni/net.d/10-net.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'bridge' }] }));
      mkdirSync(join(dir, 'etc/containerd'), { recursive: true });
      const path = join(dir, 'etc/containerd/config.toml');
      const original = '# node config\nversion = 3\n\n[plugins.\'io.containerd.cri.v1.runtime\'.containerd.runtimes.runc]\n  runtime_type = \'io.containerd.runc.v2\'\n';
      writeFileSync(path, original);
      const i = await vnode(['install', '--host-root', dir, '--no-restart']);
      assert.equal(i.code, 0, describeResult(i));
      assert.match(i.stdout, /^containerd skipped \(restart containerd to load the vnode runtime \(--no-restart\)\)$/m);
      const edited = readFileSync(path, 'utf8').replace('# node config\n', '# node config\n# edited by the operator after install\noom_score = -999\n');
      writeFileSync(path, edited);
      const u = await vnode(['uninstall', '--host-root', dir, '--no-restart']);
      assert.equal(u.code, 0, describeResult(u));
      assert.match(u.stdout, /^config \/etc\/containerd\/config\.toml configured \(changed since install: removed the vnode block, kept the other changes\)$/m);
      assert.equal(readFileSync(path, 'utf8'), original.replace('# node config\n', '# node config\n# edited by the operator after install\noom_score = -999\n'));
      assert.ok(!existsSync(join(dir, 'opt/vnode')) && !existsSync(`${path}.vnode-backup`));
      const again = await vnode(['uninstall', '--host-root', dir, '--no-restart']);
      assert.equal(again.code, 1);
      assert.match(again.stderr, /vnode is not installed here .*\[NOT_INSTALLED\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses a config that does not parse and an unknown version, leaving the file untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnode-badcfg-'));
    try {
      mkdirSync(join(dir, 'etc/cni/net.d'), { recursive: true });
      writeFileSync(join(dir, 'etc/cni/net.d/10-net.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'bridge' }] }));
      const cases: [string, RegExp, string][] = [
        ['version = 2\n[plugins."io.containerd.grpc.v1.cri"\nsandbox_image = "x"\n', /is not valid TOML .*; the file was left untouched \[CONFIG_PARSE\]/, 'unparsable'],
        ['version = 7\n', /has version = 7: vnode install knows versions 2 \(containerd 1\.6\/1\.7\) and 3 \(containerd 2\.x\); the file was left untouched \[CONFIG_VERSION\]/, 'unknown version'],
        ['# no version key: a version 1 config\n[plugins.cri]\n', /no "version" key .*\[CONFIG_VERSION\]/, 'v1'],
      ];
      // CRI-O's socket on the node: refused, saying why, before anything is read or written
      mkdirSync(join(dir, 'run/crio'), { recursive: true });
      writeFileSync(join(dir, 'run/crio/crio.sock'), '');
      mkdirSync(join(dir, 'etc/containerd'), { recursive: true });
      writeFileSync(join(dir, 'etc/containerd/config.toml'), 'version = 2\n');
      const crio = await vnode(['install', '--host-root', dir, '--no-restart', '-o', 'json']);
      assert.equal(crio.code, 1, describeResult(crio));
      assert.equal((JSON.parse(crio.stdout) as { error: { code: string } }).error.code, 'UNSUPPORTED_RUNTIME');
      assert.match(crio.stderr, /this node runs CRI-O \(\/run\/crio\/crio\.sock\): .*vnode installs into containerd 1\.6, 1\.7 and 2\.x only/);
      rmSync(join(dir, 'run'), { recursive: true });
      for (const [text, message, what] of cases) {
        const path = join(dir, 'etc/containerd/config.toml');
        mkdirSync(join(dir, 'etc/containerd'), { recursive: true });
        writeFileSync(path, text);
        const before = sha(path);
        const r = await vnode(['install', '--host-root', dir, '--prefix', '/opt/vnode', '--no-restart']);
        assert.equal(r.code, 2, `${what}: ${describeResult(r)}`);
        assert.match(r.stderr, message, what);
        assert.equal(sha(path), before, `${what}: the file is untouched`);
        assert.ok(!existsSync(join(dir, 'opt/vnode')), `${what}: nothing was written to the prefix`);
        assert.ok(!existsSync(`${path}.vnode-backup`));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
