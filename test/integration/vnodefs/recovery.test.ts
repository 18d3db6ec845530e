// The manager can be kill -9'd: the FUSE connection survives in the holder process,
// a new server takes it back, and readers that were waiting complete.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { alive, cleanupMount, makeCgroup, run, ServerProcess, skipReason, waitFor, wchan, type TestCgroup } from '../../fixtures/vnodefs/harness.js';

const skip = skipReason();
const mountpoint = `/tmp/vnodefs-it-recovery-${process.pid}`;
let cg: TestCgroup;
let vnodes: Record<string, { cgroup: TestCgroup['loc']; startedAt: number }>;
const servers: ServerProcess[] = [];

function start(): ServerProcess {
  const s = new ServerProcess(mountpoint, vnodes);
  servers.push(s);
  return s;
}

before(() => {
  if (skip) return;
  cg = makeCgroup(`recovery-${process.pid}`, { memoryBytes: 192 * 1024 * 1024 });
  vnodes = { a: { cgroup: cg.loc, startedAt: Date.now() } };
});

after(async () => {
  if (skip) return;
  for (const s of servers) await s.kill9();
  await cleanupMount(mountpoint);
  cg?.remove();
});

test('kill -9 of the server: a reader blocks (no ENOTCONN) and completes once a new server reclaims the connection', { skip, timeout: 20_000 }, async () => {
  const s1 = start();
  const ready1 = await s1.next();
  assert.equal(ready1.recovered, false);
  const holder = ready1.holderPid as number;
  assert.ok(alive(holder));
  const first = await run('cat', [`${mountpoint}/a/proc/meminfo`]);
  assert.match(first.stdout, /^MemTotal:\s+196608 kB$/m);

  // An open handle that will live across the restart: read 10 bytes now, the rest later.
  const reader2 = spawn('sh', ['-c', `exec 3< ${mountpoint}/a/proc/meminfo; dd bs=10 count=1 <&3 2>/dev/null; read go; cat <&3`], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out2 = '';
  reader2.stdout.on('data', (d: Buffer) => (out2 += d));
  await waitFor(() => out2.length === 10, 10_000, 'first 10 bytes');

  await s1.kill9();
  assert.ok(alive(holder), 'holder survives the server');

  const blocked = spawn('cat', [`${mountpoint}/a/proc/uptime`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  blocked.stdout.on('data', (d: Buffer) => (out += d));
  blocked.stderr.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((r) => blocked.on('exit', (code) => r(code)));
  await waitFor(() => wchan(blocked.pid!) === 'request_wait_answer', 10_000, 'reader waiting on FUSE');
  assert.ok(alive(blocked.pid!));

  const s2 = start();
  const ready2 = await s2.next();
  assert.equal(ready2.recovered, true);
  assert.equal(ready2.holderPid, holder);
  assert.equal(await exited, 0, err);
  assert.match(out, /^\d+\.\d\d \d+\.\d\d\n$/);

  reader2.stdin.end('go\n');
  await new Promise((r) => reader2.on('exit', r));
  assert.match(out2, /^MemTotal: {7}[\s\S]*\nMemFree:\s+\d+ kB\n/);
});

test('a READ the dead server had taken but not answered fails once with ECONNABORTED; the next succeeds', { skip, timeout: 20_000 }, async () => {
  for (const old of servers) await old.kill9(); // only one server may read the connection here
  const s = start();
  const ready = await s.next();
  assert.equal(ready.recovered, true);
  // The file is opened first, so the request in flight at the kill is a READ
  // (a lookup that fails while revalidating a dentry is retried by the kernel).
  const reader = spawn('sh', ['-c', `exec 3< ${mountpoint}/a/proc/loadavg; read go; cat <&3; echo "rc=$?"; cat ${mountpoint}/a/proc/loadavg`], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  reader.stdout.on('data', (d: Buffer) => (out += d));
  reader.stderr.on('data', (d: Buffer) => (err += d));
  const exited = new Promise<number | null>((r) => reader.on('exit', (code) => r(code)));
  await waitFor(() => wchan(reader.pid!) !== '' && /\(sh\) S/.test(readStat(reader.pid!)) && fdOpen(reader.pid!, 3), 10_000, 'file opened');
  s.send({ cmd: 'block', ms: 3000 });
  assert.deepEqual(await s.next(), { blocking: true });
  reader.stdin.write('go\n');
  const cat = await findChild(reader.pid!, 'cat');
  await waitFor(() => wchan(cat) === 'request_wait_answer', 2000, 'cat waiting on FUSE');
  // The server has taken the request: none of its threads waits for one any more.
  await waitFor(() => !threadWchans(s.child.pid!).includes('fuse_dev_do_read'), 2000, 'server took the request');
  await s.kill9();
  await waitFor(() => err.includes('\n'), 5000, 'first cat failed');
  assert.equal(err, 'cat: -: Software caused connection abort\n');
  const s2 = start();
  assert.equal((await s2.next()).recovered, true);
  assert.ok(alive(ready.holderPid as number));
  assert.equal(await exited, 0, err);
  assert.match(out, /rc=1\n\d+\.\d\d \d+\.\d\d \d+\.\d\d \d+\/\d+ \d+\n$/);
});

test('upgrade: a server detaches without unmounting, its successor takes over, the mount never fails', { skip, timeout: 20_000 }, async () => {
  for (const old of servers) await old.kill9();
  const s = start();
  const ready = await s.next();
  assert.equal(ready.recovered, true);
  assert.deepEqual(await s.request({ cmd: 'detach' }), { detached: true });
  await new Promise((r) => s.child.once('exit', r));
  assert.equal(s.child.exitCode, 0);
  assert.ok(alive(ready.holderPid as number));
  const waiting = spawn('head', ['-1', `${mountpoint}/a/proc/meminfo`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  waiting.stdout.on('data', (d: Buffer) => (out += d));
  const exited = new Promise<number | null>((r) => waiting.on('exit', (code) => r(code)));
  await waitFor(() => wchan(waiting.pid!) === 'request_wait_answer', 10_000, 'reader waiting for the successor');
  const s2 = start();
  assert.equal((await s2.next()).recovered, true);
  assert.equal(await exited, 0);
  assert.equal(out, 'MemTotal:         196608 kB\n');
});

function threadWchans(pid: number): string[] {
  return readdirSync(`/proc/${pid}/task`).map((t) => wchan(Number(t)) || readFileSync(`/proc/${pid}/task/${t}/wchan`, 'utf8'));
}

function readStat(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return '';
  }
}

function fdOpen(pid: number, fd: number): boolean {
  try {
    return readlinkSync(`/proc/${pid}/fd/${fd}`).endsWith('/proc/loadavg');
  } catch {
    return false;
  }
}

/** The child of `parent` running `comm`, once it exists. */
async function findChild(parent: number, comm: string): Promise<number> {
  let found = 0;
  await waitFor(() => {
    for (const t of readdirSync(`/proc/${parent}/task`)) {
      let kids = '';
      try {
        kids = readFileSync(`/proc/${parent}/task/${t}/children`, 'utf8');
      } catch {
        continue;
      }
      for (const k of kids.trim().split(/\s+/).filter(Boolean)) {
        if (readStat(Number(k)).includes(`(${comm})`)) found = Number(k);
      }
    }
    return found > 0;
  }, 5000, `${comm} started`);
  return found;
}
