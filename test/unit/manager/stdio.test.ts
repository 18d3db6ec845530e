import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readdirSync, readlinkSync, rmSync, writeSync } from 'node:fs';
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

});
