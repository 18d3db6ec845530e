// The C front of containerd-shim-vnode-v2: it must find exactly the manager the
// Node.js shim would (same instance directory), answer `start` itself when that manager
// listens, and hand everything else to the Node.js shim unchanged.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { managerInstance } from '../../../src/shim/instance.js';
import { Tombstones } from '../../../src/taskapi/tombstones.js';
import { decode, encode, type DeleteResponse } from '../../../src/proto/index.js';

const front = join(import.meta.dirname, '../../../bin/containerd-shim-vnode-v2');

describe('containerd-shim-vnode-v2 C front', () => {
  let runDir: string;
  const servers: Server[] = [];
  before(() => {
    runDir = mkdtempSync(join(tmpdir(), 'vnode-front-'));
  });
  after(() => {
    for (const s of servers) s.close();
    rmSync(runDir, { recursive: true, force: true });
  });

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
      const r = run(['-namespace', 'k8s.io', '-address', address, '-publish-binary', '/usr/bin/containerd', '-id', 'abc', 'start'], 'runtime options on stdin');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, `unix://${inst.socket}`, `address ${address}`);
      assert.equal(r.stderr, '');
    }
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
