// `vnode run` without --containerd on a machine where no containerd has a vnode handler:
// vnode starts and configures its own containerd (here under temporary VNODE_RUN_DIR /
// VNODE_DATA_DIR so that a developer's own is left alone), builds busybox, reuses the
// containerd on the next run; `vnode containerd stop --purge` takes everything down.
// Runs the built bin/vnode (the README's command) when it is built, else the sources.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { localPaths, runningPid } from '../../../src/cli/containerd-local.js';
import { describeResult, isBuilt, manifest, podDirExists, removeManifests, vnode } from './helpers.js';

const isRoot = process.getuid?.() === 0;

function processesMentioning(dir: string): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes(dir)) out.push(Number(pid));
    } catch { /* gone */ }
  }
  return out;
}

function linkExists(name: string): boolean {
  try {
    execFileSync('ip', ['link', 'show', name], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('vnode run with its own containerd', { skip: isRoot ? false : 'needs root (starts containerd)' }, () => {
  let base: string;
  let env: NodeJS.ProcessEnv;

  before(() => {
    base = mkdtempSync(join(tmpdir(), 'vnode-own-ctd-'));
    // CONTAINERD_ADDRESS would select another containerd; the system socket must not have a vnode handler either.
    env = {
      VNODE_RUN_DIR: join(base, 'run'), VNODE_DATA_DIR: join(base, 'data'), CONTAINERD_ADDRESS: '', VNODE_SYSTEM_CONTAINERD: join(base, 'no-system-containerd.sock'),
      VNODE_TEST_BIN: isBuilt() ? '1' : '',
    };
  });

  after(async () => {
    const paths = localPaths(env);
    if (runningPid(paths) !== undefined) await vnode(['containerd', 'stop', '--purge'], env);
    for (const pid of processesMentioning(base)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
    if (linkExists(paths.bridge)) execFileSync('ip', ['link', 'del', paths.bridge]);
    rmSync(base, { recursive: true, force: true });
    removeManifests();
  });

  it('starts containerd, builds busybox, runs the pod; reuses it; stop leaves no mount or process; stop --purge removes everything', async (t) => {
    t.diagnostic(isBuilt() ? 'running bin/vnode (built)' : 'running the sources (not built)');
    const paths = localPaths(env);
    const m = manifest((uid) => `apiVersion: v1
kind: Pod
metadata: {name: first, uid: ${uid}}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: [sh, -c, 'echo hello from $(hostname); cat /proc/self/uid_map']
`);
    const r = await vnode(['run', m.path], env, 180_000);
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /^hello from first\n +0 +\d+ +65536\n$/);
    assert.match(r.stderr, /^starting containerd \d+\.\d+\.\S+ \(/m);
    assert.match(r.stderr, /^importing the sandbox image localhost\/vnode\/pause:3\.9/m);
    assert.match(r.stderr, /^building image docker\.io\/library\/busybox:latest from \/bin\/busybox/m);
    assert.equal(podDirExists(m.uid), false);

    const pid = runningPid(paths);
    assert.ok(pid, 'containerd keeps running after vnode run');
    assert.ok(existsSync(paths.socket));
    assert.match(readFileSync(paths.config, 'utf8'), /restrict_oom_score_adj = true/);
    const st = await vnode(['containerd', 'status'], env);
    assert.equal(st.code, 0, describeResult(st));
    assert.match(st.stdout, new RegExp(`running: pid ${pid}, socket ${paths.socket}`));

    const again = await vnode(['run', m.path], env, 120_000);
    assert.equal(again.code, 0, describeResult(again));
    assert.doesNotMatch(again.stderr, /starting containerd|building image/, 'the second run reuses containerd and the image');
    assert.equal(runningPid(paths), pid);

    // A plain stop with no pod left: containerd, the manager, its holders and the vnodefs
    // mount go (a mount nobody serves would hang every host tool that stats it); data stays.
    const plain = await vnode(['containerd', 'stop'], env, 60_000);
    assert.equal(plain.code, 0, describeResult(plain));
    assert.throws(() => process.kill(pid, 0), 'containerd is gone');
    const mountsLeft = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(base));
    assert.deepEqual(mountsLeft, [], 'no mount (vnodefs included) is left');
    assert.deepEqual(processesMentioning(base), [], 'no manager or holder is left');
    assert.ok(existsSync(paths.dir), 'a plain stop keeps the data');

    const third = await vnode(['run', m.path], env, 120_000);
    assert.equal(third.code, 0, describeResult(third));
    const pid2 = runningPid(paths);
    assert.ok(pid2, 'containerd started again');

    // the pod's network (docs/networking.md): eth0 on the bridge's subnet, a default route;
    // ipMasq's per-pod NAT rule goes with the pod (CNI DEL finds eth0 with its address)
    const subnet = (JSON.parse(readFileSync(join(paths.cniConfDir, '10-vnode.conflist'), 'utf8')) as { plugins: { ipMasq: boolean; ipam: { ranges: { subnet: string }[][] } }[] }).plugins[0]!;
    assert.equal(subnet.ipMasq, true, 'outbound NAT, as docker/kind');
    const prefix = subnet.ipam.ranges[0]![0]!.subnet.replace(/0\/24$/, '');
    const natRules = () => execFileSync('iptables-save', ['-t', 'nat'], { encoding: 'utf8' }).split('\n').filter((l) => l.includes(`-s ${prefix}`));
    const net = manifest((uid) => `apiVersion: v1
kind: Pod
metadata: {name: net, uid: ${uid}}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox
    command: [sh, -c, 'ip -o -4 addr show dev eth0; ip route show default']
`);
    const rn = await vnode(['run', net.path], env, 120_000);
    assert.equal(rn.code, 0, describeResult(rn));
    assert.match(rn.stdout, new RegExp(`eth0 +inet ${prefix.replace(/\./g, '\\.')}\\d+/24`), 'eth0 has an address of the bridge subnet');
    assert.match(rn.stdout, /^default via \S+ dev eth0/m, 'and a default route');
    assert.deepEqual(natRules(), [], "the pod's NAT rule went with it");

    const stop = await vnode(['containerd', 'stop', '--purge'], env, 60_000);
    assert.equal(stop.code, 0, describeResult(stop));
    assert.match(stop.stderr, new RegExp(`stopping containerd \\(pid ${pid2}\\)`));
    assert.throws(() => process.kill(pid2, 0), 'containerd is gone');
    assert.equal(existsSync(paths.dir), false, `${paths.dir} purged`);
    assert.equal(existsSync(join(paths.runDir, 'containerd')), false);
    assert.deepEqual(processesMentioning(base), [], 'no process (manager, vnode-hold, shim) of this containerd is left');
    assert.equal(linkExists(paths.bridge), false, 'the CNI bridge is gone');
    const cgroupsLeft = readdirSync('/sys/fs/cgroup').filter((c) => existsSync(join('/sys/fs/cgroup', c, paths.cgroupParent)));
    assert.deepEqual(cgroupsLeft, [], `cgroup ${paths.cgroupParent} removed`);

    const st2 = await vnode(['containerd', 'status'], env);
    assert.equal(st2.code, 1, describeResult(st2));
  });
});
