// The C front of containerd-shim-vnode-v2: it must find exactly the manager the
// Node.js shim would (same instance directory), answer `start` itself when that manager
// listens, and hand everything else to the Node.js shim unchanged.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { managerInstance } from '../../../src/shim/instance.js';

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

  function run(args: string[], input = '') {
    // If the front ever fell back to the Node.js shim for `start`, it must not leave a real manager behind.
    return spawnSync(front, args, { env: { ...process.env, VNODE_RUN_DIR: runDir, VNODE_MANAGER_BIN: '/bin/false' }, input, encoding: 'utf8', cwd: '/tmp' });
  }

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
