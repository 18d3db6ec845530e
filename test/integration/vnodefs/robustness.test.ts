// Readers killed or interrupted mid-request, many readers at once, one vNode's heavy
// reads next to another's, and unmounting while busy: the server stays healthy.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { alive, cleanupMount, makeCgroup, run, ServerProcess, skipReason, waitFor, wchan, type TestCgroup } from '../../fixtures/vnodefs/harness.js';

const skip = skipReason();
const mountpoint = `/tmp/vnodefs-it-robust-${process.pid}`;
let cgA: TestCgroup;
let cgB: TestCgroup;
let server: ServerProcess;
const children: ChildProcess[] = [];

function spawnTracked(cmd: string, args: string[]): ChildProcess {
  const c = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  c.stdin!.on('error', () => undefined);
  children.push(c);
  return c;
}

function exitOf(c: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve({ code: c.exitCode, signal: c.signalCode });
  return new Promise((r) => c.on('exit', (code, signal) => r({ code, signal })));
}

/** Server threads blocked waiting for a request (the server keeps WAITERS of them). */
function waitingReads(): number {
  const pid = server.child.pid!;
  return readdirSync(`/proc/${pid}/task`).filter((t) => readFileSync(`/proc/${pid}/task/${t}/wchan`, 'utf8') === 'fuse_dev_do_read').length;
}
const WAITERS = 2;
const serverTookRequest = (): boolean => waitingReads() < WAITERS;

async function stats(): Promise<Record<string, number>> {
  return (await server.request({ cmd: 'stats' })).stats as Record<string, number>;
}

before(async () => {
  if (skip) return;
  cgA = makeCgroup(`robust-a-${process.pid}`, { memoryBytes: 300 * 1024 * 1024 });
  cgB = makeCgroup(`robust-b-${process.pid}`, { memoryBytes: 100 * 1024 * 1024 });
  server = new ServerProcess(mountpoint, {
    a: { cgroup: cgA.loc, startedAt: Date.now() },
    b: { cgroup: cgB.loc, startedAt: Date.now() },
  }, { waiters: WAITERS });
  assert.equal((await server.next()).ready, true);
});

after(async () => {
  if (skip) return;
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await server?.kill9();
  await cleanupMount(mountpoint);
  cgA?.remove();
  cgB?.remove();
});

test('a reader killed while its request is in the server leaves the server healthy', { skip, timeout: 30_000 }, async () => {
  server.send({ cmd: 'block', ms: 3000 });
  assert.deepEqual(await server.next(), { blocking: true });
  const reader = spawnTracked('cat', [`${mountpoint}/a/proc/meminfo`]);
  await waitFor(() => wchan(reader.pid!) === 'request_wait_answer', 2000, 'reader waiting on FUSE');
  await waitFor(serverTookRequest, 2000, 'server took the request');
  reader.kill('SIGKILL');
  assert.equal((await server.next()).blocked, 3000);
  assert.deepEqual(await exitOf(reader), { code: null, signal: 'SIGKILL' });
  const r = await run('cat', [`${mountpoint}/a/proc/meminfo`]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /^MemTotal:\s+307200 kB$/m);
  assert.equal((await stats()).malformed, 0);
});

test('a read interrupted by a signal (FUSE_INTERRUPT) completes and the server keeps serving', { skip, timeout: 30_000 }, async () => {
  const before = (await stats()).interrupts ?? 0;
  // perl (perl-base, always in Debian) catches USR1 and reads the file in one read(2).
  const reader = spawnTracked('perl', [
    '-e',
    `$SIG{USR1} = sub { $got++ }; open(my $f, '<', $ARGV[0]) or die "open: $!"; print STDOUT "opened\\n"; $| = 1; <STDIN>; my $n = sysread($f, my $buf, 65536); print defined $n ? "read=$n sig=$got\\n$buf" : "error=$!\\n";`,
    `${mountpoint}/b/proc/meminfo`,
  ]);
  let out = '';
  reader.stdout!.on('data', (d: Buffer) => (out += d));
  await waitFor(() => out.startsWith('opened'), 5000, 'reader opened the file');
  server.send({ cmd: 'block', ms: 3000 });
  assert.deepEqual(await server.next(), { blocking: true });
  reader.stdin!.write('go\n');
  await waitFor(() => wchan(reader.pid!) === 'request_wait_answer', 2000, 'reader waiting on FUSE');
  await waitFor(serverTookRequest, 2000, 'server took the request');
  reader.kill('SIGUSR1');
  // The second waiting read takes the FUSE_INTERRUPT the kernel queues for the reader.
  await waitFor(() => waitingReads() === 0, 2000, 'server took the interrupt');
  assert.equal((await server.next()).blocked, 3000);
  assert.deepEqual(await exitOf(reader), { code: 0, signal: null });
  assert.match(out, /read=\d+ sig=1\nMemTotal:\s+102400 kB\n/);
  assert.ok((await stats()).interrupts! > before, 'the kernel sent FUSE_INTERRUPT');
});

test('50 concurrent readers of vNode a get correct files while vNode b keeps being served', { skip, timeout: 60_000 }, async () => {
  const loops: ChildProcess[] = [];
  for (let i = 0; i < 50; i++) {
    loops.push(
      spawnTracked('sh', ['-c', `while :; do for f in meminfo cpuinfo stat; do cat ${mountpoint}/a/proc/$f > /dev/null || exit 7; done; grep -q '^MemTotal: *307200 kB$' ${mountpoint}/a/proc/meminfo || exit 8; done`]),
    );
  }
  // vNode b: 300 reads, each must show b's limit, while all 50 readers of a still run.
  const r = await run('sh', ['-c', `for i in $(seq 300); do head -1 ${mountpoint}/b/proc/meminfo; done | sort | uniq -c`]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout.trim(), '300 MemTotal:         102400 kB');
  assert.ok(loops.every((l) => l.exitCode === null), 'a reader of vNode a failed');
  for (const l of loops) l.kill('SIGKILL');
  for (const l of loops) assert.deepEqual(await exitOf(l), { code: null, signal: 'SIGKILL' });
  const s = await stats();
  assert.equal(s.malformed, 0);
  assert.ok((s.requests ?? 0) > 300);
});

test('unmount while busy: readers fail instead of hanging, the server and holder exit cleanly', { skip, timeout: 60_000 }, async () => {
  const loops: ChildProcess[] = [];
  for (let i = 0; i < 10; i++) loops.push(spawnTracked('sh', ['-c', `while cat ${mountpoint}/a/proc/stat > /dev/null; do :; done; exit 3`]));
  await waitFor(() => loops.every((l) => alive(l.pid!)), 2000, 'readers running');
  const ready = { holderPid: Number(readdirSync('/proc').find((p) => readFileSafe(`/proc/${p}/cmdline`).startsWith(`vnodefs-holder:${mountpoint}\0`))) };
  server.send({ cmd: 'close' });
  assert.deepEqual(await server.next(), { closed: true });
  for (const l of loops) assert.deepEqual(await exitOf(l), { code: 3, signal: null });
  await waitFor(() => !alive(ready.holderPid), 5000, 'holder gone');
  assert.ok(!readFileSync('/proc/self/mountinfo', 'utf8').includes(` ${mountpoint} `), 'still mounted');
});

function readFileSafe(p: string): string {
  try {
    return readFileSync(p, 'latin1');
  } catch {
    return '';
  }
}
