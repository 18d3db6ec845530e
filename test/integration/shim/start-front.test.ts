// The C front of containerd-shim-vnode-v2: it must find exactly the manager the
// Node.js shim would (same instance directory), answer `start` itself when that manager
// runs and listens (never for a killed one whose socket still accepts while it dies), and
// hand everything else to the Node.js shim unchanged.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { managerInstance, type ManagerInstance } from '../../../src/shim/instance.js';
import { startTimeOf } from '../../../src/sys/index.js';
import { Tombstones } from '../../../src/taskapi/tombstones.js';
import { decode, encode, type DeleteResponse } from '../../../src/proto/index.js';

const front = join(import.meta.dirname, '../../../bin/containerd-shim-vnode-v2');

describe('containerd-shim-vnode-v2 C front', () => {
  let runDir: string;
  const servers: Server[] = [];
  let containerd17: string;
  before(() => {
    runDir = mkdtempSync(join(tmpdir(), 'vnode-front-'));
    containerd17 = fakeContainerd('containerd-1.7', 'containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-6+deb13u1');
  });
  after(() => {
    for (const s of servers) s.close();
    rmSync(runDir, { recursive: true, force: true });
  });

  /** A stand-in containerd binary whose --version prints `line` and counts its runs in `<path>.runs`. */
  function fakeContainerd(name: string, line: string): string {
    const path = join(runDir, name);
    writeFileSync(path, `#!/bin/sh\necho run >> "$0.runs"\n[ "$1" = --version ] && echo '${line}'\n`, { mode: 0o755 });
    return path;
  }
  const runsOf = (bin: string) => (existsSync(`${bin}.runs`) ? readFileSync(`${bin}.runs`, 'utf8').split('\n').filter(Boolean).length : 0);

  /** Records `pid` as the instance's manager, as the manager does before it listens. */
  const recordManager = (inst: ManagerInstance, pid = process.pid) => writeFileSync(inst.pidFile, `${pid} ${startTimeOf(pid)}\n`);

  /** A stand-in manager: this test process listens on the instance's socket and is recorded as its manager. */
  async function listeningManager(address: string) {
    const inst = managerInstance(address, { VNODE_RUN_DIR: runDir });
    mkdirSync(inst.dir, { recursive: true });
    const server = createServer((c) => c.end());
    servers.push(server);
    await new Promise<void>((r) => server.listen(inst.socket, () => r()));
    recordManager(inst);
    return inst;
  }

  function run(args: string[], input = '', env: NodeJS.ProcessEnv = {}) {
    // If the front ever fell back to the Node.js shim for `start`, it must not leave a real manager behind.
    return spawnSync(front, args, { env: { ...process.env, VNODE_RUN_DIR: runDir, VNODE_MANAGER_BIN: '/bin/false', ...env }, input, encoding: 'utf8', cwd: '/tmp' });
  }

  it('answers delete with the response the manager left for a deleted task, without Node.js', () => {
    const address = '/tmp/vnode-front/tomb/containerd.sock';
    const tombs = new Tombstones(join(managerInstance(address, { VNODE_RUN_DIR: runDir }).dir, 'deleted'));
    const exitedAt = new Date('2026-11-28T09:00:00.123Z');
    tombs.write('k8s.io', 'c0ffee', encode('containerd.task.v2.DeleteResponse', { pid: 4242, exitStatus: 3, exitedAt }));
    const args = ['-namespace', 'k8s.io', '-address', address, '-publish-binary', '/usr/bin/containerd', '-id', 'c0ffee', '-bundle', '/nonexistent', 'delete'];
    // no node on PATH: the answer must come from the front itself
    const r = spawnSync(front, args, { env: { PATH: '/nonexistent', VNODE_RUN_DIR: runDir } });
    assert.equal(r.status, 0, r.stderr.toString());
    assert.deepEqual(decode<DeleteResponse>('containerd.task.v2.DeleteResponse', r.stdout), { pid: 4242, exitStatus: 3, exitedAt });
    assert.equal(existsSync(tombs.pathOf('k8s.io', 'c0ffee')!), false, 'the tombstone is consumed');
    // a second delete (or one for a task the manager never deleted) goes to the Node.js shim
    const again = spawnSync(front, args, { env: { PATH: '/nonexistent', VNODE_RUN_DIR: runDir }, encoding: 'utf8' });
    assert.equal(again.status, 127);
    assert.match(again.stderr, /containerd-shim-vnode-v2: cannot run node/);
    // names that are not one plain path component are never looked up
    const dir = join(tombs.dir, 'k8s.io');
    writeFileSync(join(dir, 'x'), 'not for ../x');
    const odd = spawnSync(front, [...args.slice(0, 6), '-id', '../k8s.io/x', 'delete'], { env: { PATH: '/nonexistent', VNODE_RUN_DIR: runDir }, encoding: 'utf8' });
    assert.equal(odd.status, 127);
    assert.equal(existsSync(join(dir, 'x')), true);
  });

  it('answers start with the address the Node.js shim computes, for every address form', async () => {
    for (const address of ['/tmp/vnode-front/a/../b//containerd.sock', 'unix:///tmp/vnode-front/c.sock', 'rel/./x.sock', `/tmp/${'long-'.repeat(20)}/containerd.sock`]) {
      // a relative address is relative to the shim's working directory (/tmp here)
      const inst = managerInstance(address.startsWith('rel/') ? join('/tmp', address) : address, { VNODE_RUN_DIR: runDir });
      mkdirSync(inst.dir, { recursive: true });
      const server = createServer((c) => c.end());
      servers.push(server);
      await new Promise<void>((r) => server.listen(inst.socket, () => r()));
      recordManager(inst);
      const r = run(['-namespace', 'k8s.io', '-address', address, '-publish-binary', containerd17, '-id', 'abc', 'start'], 'runtime options on stdin');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `unix://${inst.socket}`, `address ${address}`);
      assert.equal(r.stderr, '');
    }
  });

  it('answers start in shim protocol 3 to containerd 2.x and in protocol 2 to 1.x, asking each binary once', async () => {
    const inst = await listeningManager('/tmp/vnode-front/proto/containerd.sock');
    const containerd2 = fakeContainerd('containerd-2', 'containerd github.com/containerd/containerd/v2 v2.1.9 abcdef');
    const start = (bin: string, env: NodeJS.ProcessEnv = {}) => run(['-namespace', 'k8s.io', '-address', '/tmp/vnode-front/proto/containerd.sock', '-publish-binary', bin, '-id', 'p1', 'start'], '', env);
    const v3 = JSON.stringify({ version: 3, address: `unix://${inst.socket}`, protocol: 'ttrpc' });
    for (let i = 0; i < 2; i++) {
      const r = start(containerd2);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, v3);
    }
    assert.equal(runsOf(containerd2), 1, 'the version is cached by the binary');
    assert.match(readFileSync(join(inst.dir, 'containerd-version'), 'utf8'), / 2\n$/);
    // the same path, now a 1.7 binary (another size and mtime): asked again, answered in protocol 2
    fakeContainerd('containerd-2', 'containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-6+deb13u1');
    const r17 = start(containerd2);
    assert.equal(r17.stdout, `unix://${inst.socket}`);
    assert.equal(runsOf(containerd2), 2);
    // forced either way by containerd's environment; a binary that cannot tell is protocol 2
    assert.equal(start(containerd2, { VNODE_SHIM_PROTOCOL: '3' }).stdout, v3);
    const other2 = fakeContainerd('containerd-2b', 'containerd github.com/containerd/containerd/v2 2.0.0 x');
    assert.equal(start(other2, { VNODE_SHIM_PROTOCOL: '2' }).stdout, `unix://${inst.socket}`);
    assert.equal(start(join(runDir, 'no-such-containerd')).stdout, `unix://${inst.socket}`);
    assert.equal(start(fakeContainerd('containerd-odd', 'not a version line')).stdout, `unix://${inst.socket}`);
  });

  it('never answers start for a manager that is not running: not recorded, gone, another process, or killed and still dying', async () => {
    const address = '/tmp/vnode-front/dying/containerd.sock';
    const inst = await listeningManager(address);
    const start = () => run(['-namespace', 'k8s.io', '-address', address, '-publish-binary', containerd17, '-id', 'd1', 'start']);
    // the Node.js shim, which the front hands over to, spawns VNODE_MANAGER_BIN=/bin/false and fails
    const handedOver = (r: ReturnType<typeof start>, what: string) => {
      assert.notEqual(r.status, 0, `${what}: the front printed ${JSON.stringify(r.stdout)}`);
      assert.doesNotMatch(r.stdout, /unix:\/\//, what);
    };
    assert.equal(start().stdout, `unix://${inst.socket}`, 'a recorded, running manager that listens is answered');
    // each case listens afresh: the Node.js shim removes a socket it finds stale
    const gone = spawnSync('true').pid;
    for (const [what, pidLine] of [['no manager.pid', undefined], ['a pid that has exited', `${gone} 1`], ['a live pid with another start time (pid reuse)', `${process.pid} 1`]] as const) {
      for (const srv of servers.splice(-1)) srv.close();
      rmSync(inst.socket, { force: true });
      await listeningManager(address);
      if (pidLine === undefined) rmSync(inst.pidFile);
      else writeFileSync(inst.pidFile, `${pidLine}\n`);
      handedOver(start(), what);
    }

    // A real listener in a process with a large heap: after SIGKILL its socket still accepts
    // while the kernel frees its memory, and only then closes.
    const sock = join(runDir, 'dying.sock');
    const child = spawn(process.execPath, ['-e', `
      const a = []; for (let i = 0; i < 4e6; i++) a.push({ i, s: 'x' + i });
      require('net').createServer(() => {}).listen(${JSON.stringify(sock)}, () => console.log('ready'));
      setInterval(() => a.length, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => child.stdout!.once('data', () => r()));
    // the instance's socket becomes the dying process's (a symlink: connect follows it)
    for (const srv of servers.splice(-1)) srv.close();
    rmSync(inst.socket, { force: true });
    symlinkSync(sock, inst.socket);
    recordManager(inst, child.pid!);
    assert.equal(start().stdout, `unix://${inst.socket}`, 'answered while the process runs');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    const r = start();
    const stillAccepts = unixAccepts(sock);
    handedOver(r, `killed, its socket ${stillAccepts ? 'still accepting' : 'closed'} right after`);
    await exited;
  });

  it('hands everything else to the Node.js shim', () => {
    const v = run(['-v']);
    assert.equal(v.status, 0, v.stderr);
    assert.match(v.stdout, /containerd-shim-vnode-v2:\n\s+Version:/);
    const bad = run(['-address']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /containerd-shim-vnode-v2: /);
  });
});

/** Whether a unix socket accepts a connection now (a synchronous connect, via a child). */
function unixAccepts(path: string): boolean {
  return spawnSync(process.execPath, ['-e', `require('net').connect(${JSON.stringify(path)}).on('connect', () => process.exit(0)).on('error', () => process.exit(1))`]).status === 0;
}
