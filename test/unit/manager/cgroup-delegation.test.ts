// The manager's delegation step on fake trees: what it chowns (v1 and v2 layouts, from
// a fake /proc), and what delete removes.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { delegateCgroups, delegateTaskCgroups, delegationTargets, removeDelegatedCgroups } from '../../../src/manager/task/cgroup-delegation.js';
import type { OciSpec } from '../../../src/oci/index.js';
import { fakeTree, writeTree } from '../../fixtures/cgroup/tree.js';

const uid = process.getuid!();
const gid = process.getgid!();
const privileged: OciSpec = { ociVersion: '1.1.0', mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'rw'] }] } as OciSpec;
const plain: OciSpec = { ociVersion: '1.1.0', mounts: [{ destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'ro'] }] } as OciSpec;

/** A fake /proc whose mountinfo mounts a cgroup2 hierarchy at `<root>/cg` and whose pid 42 is in /kubepods/pod1/abc. */
function fakeV2(): { proc: string; dir: string } {
  const root = fakeTree({
    'cg/kubepods/pod1/abc/cgroup.procs': '',
    'cg/kubepods/pod1/abc/cgroup.threads': '',
    'cg/kubepods/pod1/abc/cgroup.subtree_control': '',
    'cg/kubepods/pod1/abc/memory.max': 'max\n',
    'proc/42/cgroup': '0::/kubepods/pod1/abc\n',
  });
  const mountinfo = `26 22 0:25 / ${root}/cg rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n`;
  writeTree(root, { 'proc/self/mountinfo': mountinfo });
  return { proc: join(root, 'proc'), dir: join(root, 'cg/kubepods/pod1/abc') };
}


test('v2: a privileged container\'s cgroup directory and its cgroup.* files are chowned, never its limits', () => {
  const { proc, dir } = fakeV2();
  const targets = delegationTargets(privileged, 42, proc);
  assert.equal(targets.length, 1);
  assert.equal(targets[0]!.dir, dir);
  assert.ok(targets[0]!.paths.includes(join(dir, 'cgroup.subtree_control')));
  assert.ok(!targets[0]!.paths.includes(join(dir, 'memory.max')));
  assert.deepEqual(delegateCgroups(targets, uid, gid), [dir]);
  assert.equal(statSync(dir).uid, uid);
});

test('an unprivileged container (read-only cgroupfs) gets nothing, and nothing is recorded', () => {
  const { proc } = fakeV2();
  assert.deepEqual(delegationTargets(plain, 42, proc), []);
  const t: { delegatedCgroups?: string[] } = {};
  delegateTaskCgroups(t, plain, 42, uid);
  assert.equal(t.delegatedCgroups, undefined);
  assert.deepEqual(delegationTargets(privileged, 0, proc), [], 'no init pid, nothing to find');
});

test('a delegatable file the kernel does not have is skipped; a missing directory is an error', () => {
  const { dir } = fakeV2();
  assert.deepEqual(delegateCgroups([{ hierarchy: 'unified', dir, paths: [dir, join(dir, 'memory.reclaim')] }], uid, gid), [dir]);
  assert.throws(() => delegateCgroups([{ hierarchy: 'unified', dir: join(dir, 'gone'), paths: [join(dir, 'gone')] }], uid, gid), /ENOENT/);
});

test('delete removes the child cgroups left in a delegated cgroup, deepest first, then the cgroup itself', () => {
  const root = fakeTree({});
  const dir = join(root, 'abc');
  mkdirSync(join(dir, 'init'), { recursive: true });
  mkdirSync(join(dir, 'docker/c1/sub'), { recursive: true });
  const warnings: string[] = [];
  removeDelegatedCgroups([dir, join(root, 'never-made')], { warn: (_o: unknown, m?: string) => void warnings.push(String(m)) } as never);
  assert.equal(existsSync(dir), false);
  assert.deepEqual(warnings, [], 'a directory already gone (ENOENT) is not a warning');
  removeDelegatedCgroups(undefined, { warn: () => assert.fail('nothing to do') } as never);
});

test('systemd driver: a systemd-form cgroupsPath names its scope; without systemd on the host it is refused before anything is made', async () => {
  const { scopeOfSpec } = await import('../../../src/manager/task/systemd-scope.js');
  const sd = { ociVersion: '1.1.0', linux: { cgroupsPath: 'kubepods-pod1.slice:cri-containerd:abc' } } as OciSpec;
  assert.deepEqual(scopeOfSpec(sd, true), { slice: 'kubepods-pod1.slice', unit: 'cri-containerd-abc.scope' });
  assert.throws(() => scopeOfSpec(sd, false), /systemd is not running on this host \(no \/run\/systemd\/system\): set SystemdCgroup = false/);
  assert.equal(scopeOfSpec({ ociVersion: '1.1.0', linux: { cgroupsPath: '/kubepods/pod1/abc' } } as OciSpec, false), undefined);
  assert.equal(scopeOfSpec({ ociVersion: '1.1.0', linux: { cgroupsPath: 'bad:one' } } as OciSpec, true), undefined, 'left to the planner, which says why');
});
