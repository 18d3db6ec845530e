// `vnode doctor` on this machine (root, kernel 6.18, hybrid cgroups): every check runs for
// real and nothing FAILs; the JSON and the table carry every check.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { localPaths } from '../../../src/cli/containerd-local.js';
import { repoRoot } from '../../support/paths.js';
import { describeResult, vnode } from './helpers.js';

const isRoot = process.getuid?.() === 0;
const CHECKS = ['kernel', 'user namespaces', '/dev/fuse', 'ID-mapped mounts', 'overlayfs', 'OCI runtime', 'containerd', 'cgroups', 'cgroup driver', 'cgroup delegation', 'CAP_SYS_RESOURCE', 'vnode-init', 'devices'];

describe('vnode doctor', { skip: isRoot ? false : 'needs root (ID-mapped mount, /dev/fuse)' }, () => {
  it('-o json: every check, none FAILs on this machine, exit 0', async () => {
    const r = await vnode(['doctor', '-o', 'json']);
    assert.equal(r.code, 0, describeResult(r));
    const j = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; status: string; detail: string; fix?: string }[] };
    assert.equal(j.ok, true);
    for (const name of CHECKS) assert.ok(j.checks.some((c) => c.name === name), `check ${name} missing`);
    const failed = j.checks.filter((c) => c.status === 'FAIL');
    assert.deepEqual(failed, []);
    const idmap = j.checks.find((c) => c.name === 'ID-mapped mounts')!;
    assert.equal(idmap.status, 'OK');
    assert.match(idmap.detail, /uid 0 shows as 4000000000 through the mount/);
    // this machine's root lacks CAP_SYS_RESOURCE (ENVIRONMENT.md): a WARN that says what to set
    const cap = j.checks.find((c) => c.name === 'CAP_SYS_RESOURCE')!;
    if (cap.status === 'WARN') assert.match(cap.fix ?? '', /restrict_oom_score_adj = true/);
    assert.match(j.checks.find((c) => c.name === 'cgroups')!.detail, /^(hybrid|unified|cgroup v1)/);
    assert.match(j.checks.find((c) => c.name === 'cgroups')!.detail, /; controllers: .*\bmemory\b/);
    // the delegation probe runs for real: a chowned cgroup, a child limited by a user namespace's root
    const deleg = j.checks.find((c) => c.name === 'cgroup delegation')!;
    assert.equal(deleg.status, 'OK', JSON.stringify(deleg));
    assert.match(deleg.detail, /made a child and limited it to 8 MiB; its own limit stayed refused \(EACCES\)/);
    assert.match(j.checks.find((c) => c.name === 'cgroup driver')!.detail, /cgroupfs|no CRI runtimes/);
    // /dev/fuse (crw-------) is here: the devices check names it as one a pod could not open
    const dev = j.checks.find((c) => c.name === 'devices')!;
    assert.equal(dev.status, 'WARN');
    assert.match(dev.detail, /show as nobody:nogroup inside and open only with "other" rw on the host; .*\/dev\/fuse.* lack it/);
    assert.match(dev.fix ?? '', /chmod o\+rw/);
  });

  it('table: CHECK STATUS DETAIL, a summary line, and no temp dir left behind', async () => {
    const r = await vnode(['doctor']);
    assert.equal(r.code, 0, describeResult(r));
    const lines = r.stdout.split('\n');
    assert.match(lines[0]!, /^CHECK +STATUS +DETAIL$/);
    for (const name of CHECKS) assert.match(r.stdout, new RegExp(`^${name.replace(/[/]/g, '\\/')} +(OK|WARN) `, 'm'));
    assert.match(r.stdout, /^0 failed, \d+ warning\(s\), \d+ ok$/m);
    let base = localPaths().dataDir;
    try { readdirSync(base); } catch { base = '/var/lib'; }
    assert.deepEqual(readdirSync(base).filter((n) => n.startsWith('.vnode-doctor-')), []);
    for (const cg of ['/sys/fs/cgroup', '/sys/fs/cgroup/memory']) {
      if (existsSync(cg)) assert.deepEqual(readdirSync(cg).filter((n) => n.startsWith('vnode-doctor-')), [], `no probe cgroup left in ${cg}`);
    }
  });

  it('exits 1 when a check fails (VNODE_CONTAINERD_BIN pointing nowhere)', async () => {
    const r = await vnode(['doctor', '-o', 'json'], { VNODE_CONTAINERD_BIN: '/nonexistent/containerd' });
    assert.equal(r.code, 1, describeResult(r));
    const j = JSON.parse(r.stdout) as { ok: boolean; checks: { name: string; status: string; fix?: string }[] };
    assert.equal(j.ok, false);
    const c = j.checks.find((x) => x.name === 'containerd')!;
    assert.equal(c.status, 'FAIL');
    assert.match(c.fix ?? '', /apt-get install containerd/);
  });
});

describe('the built bin/vnode (what the README runs)', { skip: existsSync(join(repoRoot, 'dist', 'vnode.mjs')) ? false : 'not built (npm run build)' }, () => {
  it('dispatches: --help, ps -o json, doctor -o json', () => {
    const bin = join(repoRoot, 'bin', 'vnode');
    const help = spawnSync(bin, ['--help'], { encoding: 'utf8' });
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: vnode COMMAND/);
    const ps = spawnSync(bin, ['ps', '-o', 'json'], { encoding: 'utf8' });
    assert.equal(ps.status, 0, ps.stderr);
    assert.equal((JSON.parse(ps.stdout) as { kind: string }).kind, 'VnodeList');
    const doc = spawnSync(bin, ['doctor', '-o', 'json'], { encoding: 'utf8' });
    assert.ok(doc.status === 0 || doc.status === 1, doc.stderr);
    assert.ok((JSON.parse(doc.stdout) as { checks: unknown[] }).checks.length >= 10);
    const bad = spawnSync(bin, ['run'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
  });
});
