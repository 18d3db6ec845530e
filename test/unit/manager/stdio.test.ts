import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, createReadStream, fstatSync, mkdtempSync, openSync, readdirSync, readlinkSync, readSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openStdio } from '../../../src/manager/stdio.js';

function fifo(dir: string, name: string): string {
  const path = join(dir, name);
  execFileSync('mkfifo', [path]);
  return path;
}

describe('container stdio FIFOs', () => {
  it('waits for containerd to open the read end late (its fifo package opens asynchronously)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnode-stdio-'));
    try {
      const out = fifo(dir, 'stdout');
      let received = '';
      const reading = new Promise<void>((resolve) => {
        setTimeout(() => {
          const r = createReadStream(out);
          r.on('data', (d) => (received += d.toString()));
          r.on('end', resolve);
        }, 150);
      });
      const stdio = await openStdio({ stdin: '', stdout: out, stderr: out });
      assert.equal(stdio.fds[0], 'ignore');
      assert.equal(stdio.fds[2], stdio.fds[1], 'stderr shares the stdout FIFO when the paths are equal');
      writeSync(stdio.fds[1] as number, 'hello\n');
      stdio.closeChildEnds();
      await reading;
      assert.equal(received, 'hello\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up with a clear error when no reader ever comes, leaving no FIFO open', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnode-stdio-'));
    try {
      const out = fifo(dir, 'stdout');
      const stdin = fifo(dir, 'stdin');
      await assert.rejects(openStdio({ stdin, stdout: out, stderr: '' }, 100), {
        name: 'StdioError',
        message: `stdout FIFO ${out} has no reader after 100 ms: containerd did not open its end`,
      });
      // The stdin FIFO opened before the failure is closed (sockets close on the next loop turn).
      const openFifos = (): string[] =>
        readdirSync('/proc/self/fd').flatMap((fd) => {
          try {
            const target = readlinkSync(`/proc/self/fd/${fd}`);
            return target.startsWith(dir) ? [target] : [];
          } catch {
            return [];
          }
        });
      for (let i = 0; i < 50 && openFifos().length > 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(openFifos(), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("gives the container's fds (stdout/stderr FIFOs, the stdin pipe) to the owner, keeping their modes", { skip: process.getuid?.() !== 0 && 'needs root (fchown)' }, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnode-stdio-'));
    try {
      const out = fifo(dir, 'stdout');
      const err = fifo(dir, 'stderr');
      const stdin = fifo(dir, 'stdin');
      execFileSync('chmod', ['0700', out, err, stdin]);
      // containerd's read ends, opened before the manager's writers
      const readers = [out, err].map((p) => openSync(p, constants.O_RDONLY | constants.O_NONBLOCK));
      const owner = { uid: 231072, gid: 231073 };
      const stdio = await openStdio({ stdin, stdout: out, stderr: err }, 1000, owner);
      try {
        for (const fd of stdio.fds) {
          const st = fstatSync(fd as number);
          assert.deepEqual([st.uid, st.gid], [owner.uid, owner.gid]);
        }
        assert.equal(statSync(out).mode & 0o777, 0o700, 'mode unchanged: nobody else may open it');
        assert.equal(fstatSync(stdio.fds[0] as number).mode & 0o777, 0o600);
        // containerd's read end still gets what the container writes
        writeSync(stdio.fds[1] as number, 'still-read\n');
        const buf = Buffer.alloc(64);
        const n = readSync(readers[0]!, buf, 0, 64, null);
        assert.equal(buf.subarray(0, n).toString(), 'still-read\n');
      } finally {
        stdio.closeChildEnds();
        stdio.closeStdin();
        for (const fd of readers) closeSync(fd);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
