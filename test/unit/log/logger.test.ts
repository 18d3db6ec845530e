// The structured logger: the manager's JSON lines with their fields, the CLI's plain
// lines, and the adapters for code that takes a (msg) => void callback.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { callbackLogger, cliLogger, fileDestination, formatHuman, jsonLogger, levelFromEnv, logFunction } from '../../../src/log/index.js';

function capture(): { lines: string[]; write(s: string): void } {
  const lines: string[] = [];
  return { lines, write: (s: string) => void lines.push(s) };
}

describe('JSON lines (the manager)', () => {
  test('a record has level name, ISO time, pid, name, the bound fields and the message', () => {
    const out = capture();
    const log = jsonLogger({ name: 'vnode-manager', destination: out, fields: { component: 'manager' }, level: 'info' });
    log.child({ component: 'seccomp', pod: 'ns/web', vnode: 'ns-ns', task: 't1', exec: 'e1' }).warn('seccomp: mount of "nfsd" refused');
    assert.equal(out.lines.length, 1);
    assert.ok(out.lines[0]!.endsWith('}\n'), 'one line per record');
    const r = JSON.parse(out.lines[0]!) as Record<string, unknown>;
    assert.equal(r['level'], 'warn');
    assert.match(String(r['time']), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.equal(r['pid'], process.pid);
    assert.equal(r['name'], 'vnode-manager');
    assert.equal(r['component'], 'seccomp', "a child's component replaces the parent's");
    assert.deepEqual([r['pod'], r['vnode'], r['task'], r['exec']], ['ns/web', 'ns-ns', 't1', 'e1']);
    assert.equal(r['msg'], 'seccomp: mount of "nfsd" refused');
  });

  test('errors are serialized with their message, stack and code; levels below the threshold are dropped', () => {
    const out = capture();
    const log = jsonLogger({ name: 'vnode-manager', destination: out, level: 'info' });
    log.debug('not written');
    log.error({ err: Object.assign(new Error('boom'), { code: 'VNODEFS_MOUNT' }) }, 'vnodefs close');
    assert.equal(out.lines.length, 1);
    const r = JSON.parse(out.lines[0]!) as { err: { message: string; stack: string; code: string }; msg: string };
    assert.equal(r.err.message, 'boom');
    assert.equal(r.err.code, 'VNODEFS_MOUNT');
    assert.match(r.err.stack, /^Error: boom\n/);
  });

  test('logFunction adapts a logger to the (msg) => void callbacks TaskService takes', () => {
    const out = capture();
    const log = logFunction(jsonLogger({ name: 'vnode-manager', destination: out, fields: { component: 'manager' } }), 'warn');
    log('vNode ns-a is gone (its init died)');
    const r = JSON.parse(out.lines[0]!) as Record<string, unknown>;
    assert.equal(r['level'], 'warn');
    assert.equal(r['msg'], 'vNode ns-a is gone (its init died)');
    assert.equal(r['component'], 'manager');
  });

  test('VNODE_LOG_LEVEL picks the level when it names one', () => {
    assert.equal(levelFromEnv({ VNODE_LOG_LEVEL: 'DEBUG' }), 'debug');
    assert.equal(levelFromEnv({ VNODE_LOG_LEVEL: 'loud' }), 'info');
    assert.equal(levelFromEnv({}, 'warn'), 'warn');
  });
});

describe('plain lines (the CLI)', () => {
  test('component as prefix, pod/vNode/task/exec fields after the message unless it names them', () => {
    assert.equal(formatHuman({ level: 'warn', component: 'vnode run', pod: 'default/web', msg: 'init container setup exited with 3' }),
      'vnode run: init container setup exited with 3 (pod=default/web)\n');
    assert.equal(formatHuman({ level: 'warn', component: 'vnode run', pod: 'default/web', msg: 'pod default/web still running after --timeout 3s: stopped' }),
      'vnode run: pod default/web still running after --timeout 3s: stopped\n');
    assert.equal(formatHuman({ level: 'info', exec: 'e1', task: 't1', vnode: 'v', pod: 'a/b', extra: 2, msg: 'm' }), 'm (pod=a/b, vnode=v, task=t1, exec=e1, extra=2)\n');
    assert.equal(formatHuman({ level: 'info', msg: 'starting containerd 2.1.9…' }), 'starting containerd 2.1.9…\n');
  });

  test("an error's message is added when the text lacks it; its code is not shown", () => {
    assert.equal(formatHuman({ level: 'error', component: 'vnode', err: { message: 'EPERM' }, msg: 'unmount /x' }), 'vnode: unmount /x: EPERM\n');
    assert.equal(formatHuman({ level: 'error', component: 'vnode run', code: 'VNODE_USAGE', msg: 'spec.containers[0].image: Required value' }),
      'vnode run: spec.containers[0].image: Required value\n');
  });

  test('cliLogger writes those lines, or JSON lines when asked', () => {
    const out = capture();
    const log = cliLogger({ destination: out, level: 'info' });
    log.child({ component: 'vnode delete', pod: 'ns/p' }).warn('stop container abc: gone');
    log.debug('hidden');
    log.info('removing 2 pod(s)…');
    assert.deepEqual(out.lines, ['vnode delete: stop container abc: gone (pod=ns/p)\n', 'removing 2 pod(s)…\n']);

    const json = capture();
    cliLogger({ destination: json, format: 'json' }).child({ component: 'vnode run', pod: 'ns/p' }).error({ code: 'VNODE_FAILED' }, 'failed');
    const r = JSON.parse(json.lines[0]!) as Record<string, unknown>;
    assert.deepEqual([r['level'], r['name'], r['component'], r['pod'], r['code'], r['msg']], ['error', 'vnode', 'vnode run', 'ns/p', 'VNODE_FAILED', 'failed']);
  });
});

describe('destinations and adapters', () => {
  test('callbackLogger hands each message text to the callback', () => {
    const got: string[] = [];
    const log = callbackLogger((m) => got.push(m));
    log.child({ pod: 'a/b' }).warn('seccomp: refused');
    log.debug('debug too');
    assert.deepEqual(got, ['seccomp: refused', 'debug too']);
  });

  test('fileDestination appends lines, and drops them without throwing when it cannot', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnode-log-'));
    try {
      const path = join(dir, 'shim.log');
      const log = jsonLogger({ name: 'containerd-shim-vnode-v2', destination: fileDestination(path), fields: { component: 'shim', task: 'c1' } });
      log.info('spawned vnode-manager pid 1');
      log.info('second');
      const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(lines.map((l) => [l['task'], l['msg']]), [['c1', 'spawned vnode-manager pid 1'], ['c1', 'second']]);
      assert.doesNotThrow(() => jsonLogger({ name: 'x', destination: fileDestination(join(dir, 'no', 'such', 'dir', 'f.log')) }).info('dropped'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
