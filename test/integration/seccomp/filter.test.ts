// vnode's seccomp filter (vnode-runtime-exec) and the supervisor without containerd: the filter's exact errnos on
// this kernel, and sysinfo(2) answered through a real listener for a caller in a user
// namespace of its own (as in a vNode), or failing with ENOSYS once nobody listens.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync } from 'node:fs';
import { describe, it } from 'node:test';
import { helperPath } from '../../../src/manager/helpers.js';
import { filteredCommand, Supervisor, takeListener } from '../../../src/seccomp/index.js';
import { syscallProbe } from '../../support/images.js';

const probe = syscallProbe();
const helper = helperPath('vnode-runtime-exec');

function parse(out: string): Record<string, string> {
  return Object.fromEntries(out.trim().split('\n').map((l) => l.split('=') as [string, string]));
}

/**
 * Runs `command` under the filter with its listener handed to `onListener`; resolves
 * with its output. `inUserns`: in a user namespace of its own, as a vNode's processes
 * are (made before the filter, which denies it).
 */
function runFiltered(command: string[], onListener: (fd: number) => void, inUserns: boolean): Promise<string> {
  const { argv: filtered, stdio } = filteredCommand(helper, command, ['ignore', 'pipe', 'pipe']);
  const argv = inUserns ? ['unshare', '-Urm', ...filtered] : filtered;
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: stdio as never });
    takeListener(child, onListener);
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (err += d));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

describe('vnode-runtime-exec --seccomp (the filter)', () => {
  it('denies what a vNode must not do with EPERM (ENOSYS for clone3) and lets the rest through', () => {
    const calls = ['bpf', 'init_module', 'finit_module', 'delete_module', 'kexec_load', 'open_by_handle_at', 'perf_event_open', 'userfaultfd', 'syslog', 'acct', 'swapoff', 'unshare_user', 'clone_user', 'clone3', 'mknod_chr', 'mknod_blk', 'mknodat_blk', 'unshare_mount', 'clone_plain', 'mknod_fifo', 'mknod_sock', 'mknod_whiteout', 'mount_tmpfs'];
    const got = parse(execFileSync(helper, ['--seccomp', '--', 'sh', '-c', `cd / && ${probe} ${calls.join(' ')}; rm -rf /tmp/probe-*`], { encoding: 'utf8' }));
    const expected: Record<string, string> = {};
    for (const c of calls.slice(0, 17)) expected[c] = c === 'clone3' ? 'ENOSYS' : 'EPERM';
    for (const c of calls.slice(17)) expected[c] = 'OK';
    assert.deepEqual(got, expected);
  });

  it('filters i386 programs by the i386 numbers', () => {
    const probe32 = syscallProbe('i386');
    const calls = ['mknod_blk', 'mknodat_blk', 'unshare_user', 'clone_user', 'clone3', 'bpf', 'finit_module', 'perf_event_open', 'userfaultfd', 'mknod_fifo', 'unshare_mount', 'clone_plain'];
    const got = parse(execFileSync(helper, ['--seccomp', '--', 'sh', '-c', `cd / && ${probe32} ${calls.join(' ')}; rm -rf /tmp/probe-*`], { encoding: 'utf8' }));
    assert.deepEqual(got, {
      mknod_blk: 'EPERM', mknodat_blk: 'EPERM', unshare_user: 'EPERM', clone_user: 'EPERM', clone3: 'ENOSYS', bpf: 'EPERM', finit_module: 'EPERM', perf_event_open: 'EPERM', userfaultfd: 'EPERM',
      mknod_fifo: 'OK', unshare_mount: 'OK', clone_plain: 'OK',
    });
  });

  it('refuses bad usage with exit 125 and says how to call it', () => {
    const r = (() => {
      try {
        execFileSync(helper, ['true'], { stdio: 'pipe' });
        return { status: 0, stderr: '' };
      } catch (e) {
        return e as { status: number; stderr: Buffer };
      }
    })();
    assert.equal(r.status, 125);
    assert.match(r.stderr.toString(), /usage: vnode-runtime-exec \[--seccomp \| --seccomp-handoff-fd N\] \[--pid-ns-of PID \[--read-empty FILE\]\.\.\.\] -- COMMAND/);
  });
});

describe('the seccomp supervisor', () => {
  it("answers sysinfo(2) with the caller's vNode view, and the host's to host-side callers", async () => {
    const sup = new Supervisor({ log: () => undefined, notifyHelper: helperPath('vnode-notify') });
    const calls: number[] = [];
    const ctx = {
      describe: 'test',
      overlays: () => undefined,
      sysinfo: (pid: number) => {
        calls.push(pid);
        return { uptime: 1234, loads: [0, 0, 0] as [number, number, number], totalram: 300 * 2 ** 20, freeram: 2 ** 20, sharedram: 0, bufferram: 0, totalswap: 0, freeswap: 0, procs: 3 };
      },
    };
    try {
      // in a user namespace of its own, as a vNode's processes are
      const inner = parse(await runFiltered([probe, 'sysinfo'], (fd) => sup.add(fd, ctx), true));
      assert.deepEqual([inner['sysinfo.totalram'], inner['sysinfo.uptime'], inner['sysinfo.procs'], inner.sysinfo], [String(300 * 2 ** 20), '1234', '3', 'OK']);
      assert.equal(calls.length, 1);
      const host = parse(await runFiltered([probe, 'sysinfo', 'bpf'], (fd) => sup.add(fd, ctx), false));
      assert.notEqual(host['sysinfo.uptime'], '1234', 'a host-side caller (the runtime) gets the kernel answer');
      assert.equal(calls.length, 1);
      assert.equal(host.bpf, 'OK', 'bpf(2) from the host user namespace (runc loading a device program) goes on');
      // an i386 caller gets the 32-bit struct sysinfo
      const inner32 = parse(await runFiltered([syscallProbe('i386'), 'sysinfo'], (fd) => sup.add(fd, ctx), true));
      assert.deepEqual([inner32['sysinfo.totalram'], inner32['sysinfo.uptime'], inner32['sysinfo.procs'], inner32.sysinfo], [String(300 * 2 ** 20), '1234', '3', 'OK']);
      const innerBpf = parse(await runFiltered([probe, 'bpf'], (fd) => sup.add(fd, ctx), true));
      assert.equal(innerBpf.bpf, 'EPERM');
      assert.deepEqual(sup.stats().handled, { sysinfo: 3, bpf: 2 });
      // a mount of a type the supervisor does not handle is let through by the poller thread itself
      const tmpfs = parse(await runFiltered(['sh', '-c', `cd /tmp && ${probe} mount_tmpfs; rmdir /tmp/probe-mnt`], (fd) => sup.add(fd, ctx), true));
      assert.equal(tmpfs.mount_tmpfs, 'OK');
      assert.deepEqual(sup.stats().handled, { sysinfo: 3, bpf: 2 }, 'the main thread never saw it');
    } finally {
      await sup.close();
    }
  });

  it('leaves no caller waiting when nobody listens: notified syscalls fail with ENOSYS', async () => {
    // the listener is taken and closed at once, as when the manager dies
    const out = parse(await runFiltered(['sh', '-c', `cd /tmp && ${probe} sysinfo bpf mknod_fifo; rm -f /tmp/probe-fifo`], (fd) => closeSync(fd), true));
    assert.deepEqual(out, { sysinfo: 'ENOSYS', bpf: 'ENOSYS', mknod_fifo: 'OK' });
  });
});
