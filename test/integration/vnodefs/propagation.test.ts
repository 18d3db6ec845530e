// vnodefs' mount is private even under a shared parent (systemd makes / shared on a real
// node), so binds of its files are no peers of it: a mount a workload makes over one (runc
// masking /proc/kcore with /dev/null inside a Docker-in-Docker container) stays where it
// was made instead of propagating to the vnodefs mount, the host and every other container.
// A server that takes over a shared mount from an older one (through the holder) makes it
// private too.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { cleanupMount, makeCgroup, ServerProcess, skipReason, waitFor, type TestCgroup } from '../../fixtures/vnodefs/harness.js';

const skip = skipReason();
const parent = `/tmp/vnodefs-it-propagation-${process.pid}`;
const mountpoint = `${parent}/vnodefs`;
const bindTarget = `${parent}/meminfo-bind`;
let cg: TestCgroup;
const servers: ServerProcess[] = [];

/** The mountinfo lines of mounts at `path`: [optional fields (shared:N, master:N), …]. */
function mountsAt(path: string): string[][] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4] === path).map((l) => l.split(' - ')[0]!.split(' ').slice(6));
}

function start(): ServerProcess {
  const s = new ServerProcess(mountpoint, { a: { cgroup: cg.loc, startedAt: Date.now() } });
  servers.push(s);
  return s;
}

before(() => {
  if (skip) return;
  cg = makeCgroup(`propagation-${process.pid}`, { memoryBytes: 128 * 1024 * 1024 });
  mkdirSync(parent, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'vnodefs-it-parent', parent]);
  execFileSync('mount', ['--make-shared', parent]);
  writeFileSync(bindTarget, '');
});

after(async () => {
  if (skip) return;
  for (const s of servers) await s.kill9();
  for (let i = 0; i < 2; i++) try { execFileSync('umount', ['-l', bindTarget], { stdio: 'ignore' }); } catch { /* not mounted */ }
  await cleanupMount(mountpoint);
  try { execFileSync('umount', ['-l', parent], { stdio: 'ignore' }); } catch { /* gone */ }
  rmSync(parent, { recursive: true, force: true });
  cg?.remove();
});

test('under a shared parent the vnodefs mount is private; a mount over a bind of its file does not reach it', { skip, timeout: 30_000 }, async () => {
  assert.ok(mountsAt(parent)[0]!.some((f) => f.startsWith('shared:')), 'the parent is shared, as / is under systemd');
  const s = start();
  assert.equal((await s.next()).ready, true);
  const [fields] = mountsAt(mountpoint);
  assert.ok(fields, 'vnodefs is mounted');
  assert.deepEqual(fields.filter((f) => /^(shared|master):/.test(f)), [], `vnodefs' mount has no peer group: ${fields.join(' ')}`);

  execFileSync('mount', ['--bind', `${mountpoint}/a/proc/meminfo`, bindTarget]);
  // what runc does to a masked path, here over the bind
  execFileSync('mount', ['--bind', '/dev/null', bindTarget]);
  assert.equal(mountsAt(bindTarget).length, 2, 'the /dev/null bind sits on the file bind');
  assert.deepEqual(mountsAt(`${mountpoint}/a/proc/meminfo`), [], 'and did not propagate onto vnodefs itself');
  assert.match(readFileSync(`${mountpoint}/a/proc/meminfo`, 'utf8'), /^MemTotal:/);
  execFileSync('umount', [bindTarget]);
  execFileSync('umount', [bindTarget]);
});

test('a server that reclaims a shared vnodefs mount from the holder makes it private', { skip, timeout: 30_000 }, async () => {
  await servers[0]!.kill9();
  execFileSync('mount', ['--make-shared', mountpoint]);
  assert.ok(mountsAt(mountpoint)[0]!.some((f) => f.startsWith('shared:')), 'shared, as an older manager left it');
  const s = start();
  const ready = await s.next();
  assert.equal(ready.recovered, true);
  await waitFor(() => !mountsAt(mountpoint)[0]!.some((f) => /^(shared|master):/.test(f)), 10_000, 'the reclaimed mount to become private');
  assert.match(readFileSync(`${mountpoint}/a/proc/meminfo`, 'utf8'), /^MemTotal:/);
});
