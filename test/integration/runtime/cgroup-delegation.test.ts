// Delegation of a privileged vNode pod's cgroup (docs/cgroups.md, "Delegation"): through
// CRI, a privileged container with a 64 MiB limit creates a child cgroup, limits it to
// 16 MiB, and a process in it is OOM-killed there while the container lives on; a
// higher limit on the child does not raise the effective one; the container's own limit
// and anything outside its subtree stay out of reach; the host gains no cgroup outside
// the pod's, and nothing is left once the pod is removed. The script is the v1 one on
// v1/hybrid hosts and the v2 one (subtree_control, memory.max) on unified hosts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { hostCgroupLayout, parseHierarchies } from '../../../src/cgroup/index.js';
import { availableContainerdVersions } from '../../support/containerd.js';
import { withPod, type CriEnv } from '../../support/cri.js';
import { containerPid } from '../../support/flows.js';
import { vnodeSuite } from '../../support/vnode-host.js';
import { cgroupDirsOf, hostCgroupsMatching } from '../../support/host-cgroups.js';

const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions().filter((v) => v !== '1.6')) as ('2' | '1.7')[];
const MiB = 1024 * 1024;
const unified = hostCgroupLayout().mode === 'v2';

/**
 * A 100 MB string in a shell of its own, moved into cgroup dir $1 first; prints its exit
 * status as "<label>=<status>". It raises its own oom_score_adj to 1000 (no privilege
 * needed), so that an OOM at the container's limit picks it and not the script's shell or
 * the container's init, whatever their sizes at that moment.
 */
const hog = (cg: string, label: string) =>
  `sh -c 'echo $$ > ${cg}/cgroup.procs || exit 90; echo 1000 > /proc/self/oom_score_adj || exit 91; x=$(head -c 100000000 /dev/zero | tr "\\0" x); echo survived'; echo "${label}=$?"`;

/** The scenario inside the container, one line "key=value" per step (v1 files). */
function scriptV1(name: string): string {
  const M = '/sys/fs/cgroup/memory';
  const C = `${M}/${name}`;
  return [
    `echo "cgroup=$(grep :memory: /proc/self/cgroup)"`,
    `mkdir ${C} && echo mkdir=ok`,
    `echo ${16 * MiB} > ${C}/memory.limit_in_bytes && echo "child.limit=$(cat ${C}/memory.limit_in_bytes)"`,
    hog(C, 'hog.below'),
    `echo "child.ooms=$(grep '^oom_kill ' ${C}/memory.oom_control | cut -d' ' -f2)"`,
    `echo ${1024 * MiB} > ${C}/memory.limit_in_bytes && echo "child.above=$(cat ${C}/memory.limit_in_bytes)"`,
    `echo "child.effective=$(grep ^hierarchical_memory_limit ${C}/memory.stat | cut -d' ' -f2)"`,
    hog(C, 'hog.above'),
    `echo "own.limit=$( { echo ${1024 * MiB} > ${M}/memory.limit_in_bytes; } 2>&1 | sed 's/.*: //')"`,
    `echo "own.limit.now=$(cat ${M}/memory.limit_in_bytes)"`,
    // a fresh mount of the hierarchy is rooted at the container's cgroup namespace: nothing above shows
    `mkdir -p /tmp/cg && mount -t cgroup -o memory cgroup /tmp/cg && echo "fresh.root.limit=$(cat /tmp/cg/memory.limit_in_bytes)" && echo "fresh.sees.child=$(test -d /tmp/cg/${name} && echo yes)"; umount /tmp/cg 2>/dev/null`,
    `rmdir ${C} && echo rmdir=ok`,
    `mkdir ${C}-left && echo left=ok`,
  ].join('\n');
}

/** The same on cgroup v2: processes leave the namespace root first (no internal processes), then +memory. */
function scriptV2(name: string): string {
  const R = '/sys/fs/cgroup';
  const C = `${R}/${name}`;
  return [
    `echo "cgroup=$(cat /proc/self/cgroup)"`,
    `mkdir ${R}/${name}-init && for p in $(cat ${R}/cgroup.procs); do echo $p > ${R}/${name}-init/cgroup.procs 2>/dev/null; done; echo "root.procs=$(wc -l < ${R}/cgroup.procs)"`,
    `echo +memory > ${R}/cgroup.subtree_control && echo "subtree=$(cat ${R}/cgroup.subtree_control)"`,
    `mkdir ${C} && echo mkdir=ok`,
    `echo ${16 * MiB} > ${C}/memory.max && echo "child.limit=$(cat ${C}/memory.max)"`,
    hog(C, 'hog.below'),
    `echo "child.ooms=$(grep '^oom_kill ' ${C}/memory.events | cut -d' ' -f2)"`,
    `echo ${1024 * MiB} > ${C}/memory.max && echo "child.above=$(cat ${C}/memory.max)"`,
    hog(C, 'hog.above'),
    `echo "own.limit=$( { echo ${1024 * MiB} > ${R}/memory.max; } 2>&1 | sed 's/.*: //')"`,
    `echo "own.limit.now=$(cat ${R}/memory.max)"`,
    `mkdir -p /tmp/cg && mount -t cgroup2 cgroup2 /tmp/cg && echo "fresh.root.limit=$(cat /tmp/cg/memory.max)" && echo "fresh.sees.child=$(test -d /tmp/cg/${name} && echo yes)"; umount /tmp/cg 2>/dev/null`,
    `rmdir ${C} && echo rmdir=ok`,
    `mkdir ${C}-left && echo left=ok`,
  ].join('\n');
}

function parseLines(out: string): Record<string, string> {
  const r: Record<string, string> = {};
  for (const l of out.split('\n')) {
    const i = l.indexOf('=');
    if (i > 0) r[l.slice(0, i)] = l.slice(i + 1);
  }
  return r;
}

/** Every cgroup directory on the host whose name contains `marker`. */
const hostCgroupsNamed = (marker: string): string[] => hostCgroupsMatching(new RegExp(marker.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));

/** Directories and files below `root` owned by host uid `uid`, as paths. */
function ownedBy(root: string, uid: number): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    let ents: import('node:fs').Dirent[];
    try { ents = readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      const p = join(d, e.name);
      try { if (statSync(p).uid === uid) out.push(p); } catch { /* gone */ }
      if (e.isDirectory() && depth < 12) walk(p, depth + 1);
    }
  };
  walk(root, 0);
  return out;
}

const containerCgroupDirs = cgroupDirsOf;

function hostUid(pid: number): number {
  return Number(/^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
}

async function runScript(env: CriEnv, cid: string, script: string): Promise<Record<string, string>> {
  const r = await env.cri.execSync(cid, ['sh', '-c', script], 120);
  const out = r.stdout.toString();
  const lines = parseLines(out);
  const raw = `${out}\n--- stderr\n${r.stderr.toString()}\n--- exit ${r.exit_code}`;
  // a hog that did not end as expected: what the kernel's OOM killer did, and to whom
  const oomLog = lines['hog.below'] === '137' && lines['hog.above'] === '137' ? '' : `\n--- kernel OOM log\n${kernelOomLog()}`;
  return { ...lines, _raw: raw + oomLog };
}

/** The kernel log's last OOM-killer lines (invoked, victims, reaper), or why it could not be read. */
function kernelOomLog(): string {
  try {
    const log = execFileSync('dmesg', [], { encoding: 'utf8', maxBuffer: 64 * MiB });
    return log.split('\n').filter((l) => /oom|Killed process|reap|Memory cgroup/i.test(l)).slice(-40).join('\n');
  } catch (e) {
    return `(dmesg: ${(e as Error).message})`;
  }
}

for (const version of versions) {
  describe(`cgroup delegation on containerd ${version} (${hostCgroupLayout().mode})`, () => {
    const suite = vnodeSuite({ version });

    it('a privileged pod limits a child cgroup below its own limit, never above or outside it', async () => {
      const name = `deleg-${randomBytes(4).toString('hex')}`;
      let containerDirs: string[] = [];
      await withPod(suite.env, { namespace: 'deleg', privileged: true }, async (pod) => {
        const cid = await pod.runContainer({ name: 'ctl', command: ['sleep', '3600'], privileged: true, resources: { memory_limit_in_bytes: 64 * MiB } });
        await pod.waitForState(cid, 'CONTAINER_RUNNING');
        const pid = await containerPid(suite.env, cid);
        const uid = hostUid(pid);
        assert.ok(uid >= 65536, `the container's root is the vNode's root (host uid ${uid})`);
        const dirs = containerCgroupDirs(pid);
        containerDirs = dirs;

        const r = await runScript(suite.env, cid, unified ? scriptV2(name) : scriptV1(name));
        const raw = r._raw;
        assert.equal(r['mkdir'], 'ok', raw);
        assert.equal(r['child.limit'], String(16 * MiB), raw);
        assert.equal(r['hog.below'], '137', `the hog is OOM-killed at the child's limit\n${raw}`);
        assert.ok(Number(r['child.ooms']) >= 1, `the child cgroup counts the OOM kill\n${raw}`);
        // the kernel takes a higher limit on the child, and still enforces the container's
        assert.equal(r['child.above'], String(1024 * MiB), raw);
        if (!unified) assert.equal(r['child.effective'], String(64 * MiB), raw);
        assert.equal(r['hog.above'], '137', `the container's 64 MiB still holds\n${raw}`);
        assert.equal(r['own.limit'], 'Permission denied', `EACCES on the container's own limit\n${raw}`);
        assert.equal(r['own.limit.now'], String(64 * MiB), raw);
        assert.equal(r['fresh.root.limit'], String(64 * MiB), `a fresh cgroupfs mount shows the container's cgroup as its root\n${raw}`);
        assert.equal(r['fresh.sees.child'], 'yes', raw);
        assert.equal(r['rmdir'], 'ok', raw);
        assert.equal(r['left'], 'ok', raw);
        if (unified) assert.match(r['subtree'] ?? '', /\bmemory\b/, raw);

        // the container lives on, and execs still work
        assert.equal((await pod.status(cid)).state, 'CONTAINER_RUNNING');
        assert.equal((await suite.env.cri.execSync(cid, ['true'], 10)).exit_code, 0);

        // host side: only the container's cgroups (and what was made in them) belong to the vNode's root
        const memDir = dirs.find((d) => unified || d.includes('/memory/'))!;
        assert.equal(statSync(memDir).uid, uid, `${memDir} is delegated`);
        assert.equal(statSync(join(memDir, unified ? 'memory.max' : 'memory.limit_in_bytes')).uid, 0, 'its own limit stays host root\'s');
        assert.equal(statSync(dirname(memDir)).uid, 0, 'the pod cgroup stays host root\'s');
        for (const h of parseHierarchies(readFileSync('/proc/self/mountinfo', 'utf8')).filter((x) => x.root === '/')) {
          const outside = ownedBy(h.mountPoint, uid).filter((p) => !dirs.some((d) => p === d || p.startsWith(`${d}/`)));
          assert.deepEqual(outside, [], `nothing outside the container's cgroups is the vNode's in ${h.mountPoint}`);
        }
        const made = hostCgroupsNamed(name);
        assert.ok(made.length > 0, 'the leftover child exists on the host');
        for (const p of made) assert.ok(dirs.some((d) => p.startsWith(`${d}/`)), `${p} is inside the container's cgroup`);
      });
      assert.deepEqual(hostCgroupsNamed(name), [], 'no child cgroup left once the pod is removed');
      for (const d of containerDirs) assert.equal(existsSync(d), false, `${d} removed with the pod`);
    });

    it('an unprivileged pod gets no delegation: its cgroupfs is read-only and its cgroup host root\'s', async () => {
      await withPod(suite.env, { namespace: 'deleg' }, async (pod) => {
        const cid = await pod.runContainer({ name: 'plain', command: ['sleep', '3600'], resources: { memory_limit_in_bytes: 64 * MiB } });
        await pod.waitForState(cid, 'CONTAINER_RUNNING');
        const pid = await containerPid(suite.env, cid);
        const target = unified ? '/sys/fs/cgroup/x' : '/sys/fs/cgroup/memory/x';
        const r = await suite.env.cri.execSync(cid, ['sh', '-c', `mkdir ${target} 2>&1 | sed 's/.*: //'`], 10);
        assert.equal(r.stdout.toString().trim(), 'Read-only file system');
        for (const d of containerCgroupDirs(pid)) assert.equal(statSync(d).uid, 0, `${d} stays host root's`);
      });
    });
  });
}
