import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkKernel, doctorTable, hasCapSysResource, kernelVersion } from '../../../src/cli/doctor.js';
import { LogFollower, parseCriLogLine } from '../../../src/cli/logs.js';
import { formatAge, formatTable, parseDuration } from '../../../src/cli/output.js';
import { psJson, psTable } from '../../../src/cli/ps.js';
import type { InstanceView } from '../../../src/cli/state.js';
import { mkdtempSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

describe('formatTable', () => {
  it('pads columns like kubectl, no trailing spaces', () => {
    assert.equal(formatTable(['NAME', 'AGE'], [['a', '1s'], ['longer-name', '20m']]), 'NAME          AGE\na             1s\nlonger-name   20m\n');
    assert.equal(formatTable(['A', 'B'], []), 'A   B\n');
    assert.equal(formatTable(['A', 'B', 'C'], [['x', '', '']]), 'A   B   C\nx\n');
  });
});

describe('formatAge', () => {
  const now = new Date('2026-01-02T00:00:00Z');
  it('uses s, m, h, d', () => {
    assert.equal(formatAge('2026-01-01T23:59:15Z', now), '45s');
    assert.equal(formatAge('2026-01-01T23:55:00Z', now), '5m');
    assert.equal(formatAge('2026-01-01T21:00:00Z', now), '3h');
    assert.equal(formatAge('2025-12-30T00:00:00Z', now), '3d');
    assert.equal(formatAge('garbage', now), '<unknown>');
  });
});

describe('parseDuration', () => {
  it('reads 30, 30s, 5m, 1h30m, 250ms', () => {
    assert.equal(parseDuration('30', 'f'), 30_000);
    assert.equal(parseDuration('30s', 'f'), 30_000);
    assert.equal(parseDuration('5m', 'f'), 300_000);
    assert.equal(parseDuration('1h30m', 'f'), 5_400_000);
    assert.equal(parseDuration('250ms', 'f'), 250);
    assert.throws(() => parseDuration('soon', '--timeout'), { message: '--timeout: invalid duration "soon" (examples: 30s, 5m, 1h)' });
    assert.throws(() => parseDuration('5x', '--timeout'), /invalid duration/);
  });
});

const instances: InstanceView[] = [{
  id: 'abc123',
  dir: '/run/vnode/abc123',
  managerPid: 10,
  managerAlive: true,
  containerdAddress: '/run/x.sock',
  vnodes: [{
    instance: 'abc123', name: 'ns-team-a', key: 'ns/team-a', initPid: 4242, alive: true,
    range: { start: 1048576, size: 65536, end: 1114111 }, createdAt: '2026-01-01T23:55:00Z', members: ['k8s.io/s1', 'k8s.io/c1'],
    pods: [{ id: 's1', name: 'web', namespace: 'team-a', uid: 'u', status: 'running', containers: [{ id: 'c1', name: 'main', status: 'running', pid: 4300 }] }],
    tasks: [],
  }, {
    instance: 'abc123', name: 'ctr-default', key: 'ctr/default', initPid: 99, alive: false,
    range: { start: 1114112, size: 65536, end: 1179647 }, createdAt: '2026-01-01T00:00:00Z', members: ['default/t1'],
    pods: [], tasks: [{ namespace: 'default', id: 't1', status: 'stopped', pid: 0 }],
  }],
}];

describe('vnode ps output', () => {
  const now = new Date('2026-01-02T00:00:00Z');
  it('table', () => {
    assert.equal(psTable(instances, false, now), [
      'NAME          KEY           ID RANGE          PODS   INIT PID   AGE',
      'ns-team-a     ns/team-a     1048576-1114111   1      4242       5m',
      'ctr-default   ctr/default   1114112-1179647   1      99         24h',
      '',
    ].join('\n'));
  });
  it('wide', () => {
    const lines = psTable(instances, true, now).split('\n');
    assert.match(lines[0]!, /^NAME +KEY +ID RANGE +PODS +INIT PID +AGE +STATUS +INSTANCE +POD NAMES$/);
    assert.match(lines[1]!, /Running +abc123 +team-a\/web$/);
    assert.match(lines[2]!, /Dead +abc123 +default\/t1$/);
  });
  it('json', () => {
    const j = JSON.parse(psJson(instances)) as { kind: string; items: { name: string; range: { start: number }; containerdAddress: string; pods: unknown[] }[] };
    assert.equal(j.kind, 'VnodeList');
    assert.deepEqual(j.items.map((i) => i.name), ['ns-team-a', 'ctr-default']);
    assert.equal(j.items[0]!.range.start, 1048576);
    assert.equal(j.items[0]!.containerdAddress, '/run/x.sock');
    assert.equal(j.items[0]!.pods.length, 1);
  });
});

describe('doctor helpers', () => {
  it('kernel version and CAP_SYS_RESOURCE', () => {
    assert.deepEqual(kernelVersion('6.18.44-fc-v857'), [6, 18]);
    assert.equal(kernelVersion('weird'), undefined);
    // 6.1 is enough; below 6.3 the check says tmpfs pod files take the mirrored / chowned path
    assert.deepEqual(checkKernel('6.18.44-fc-v857'), { name: 'kernel', status: 'OK', detail: 'Linux 6.18.44-fc-v857 (≥ 6.3); tmpfs pod files: ID-mapped' });
    assert.deepEqual(checkKernel('6.3.0'), { name: 'kernel', status: 'OK', detail: 'Linux 6.3.0 (≥ 6.3); tmpfs pod files: ID-mapped' });
    for (const rel of ['6.1.0-56-amd64', '6.2.16']) {
      const r = checkKernel(rel);
      assert.equal(r.status, 'OK', rel);
      assert.match(r.detail, /tmpfs pod files: mirrored \(secrets, projected tokens\) \/ chowned \(emptyDir Memory, \/dev\/shm\)$/);
    }
    assert.equal(checkKernel('5.15.0').status, 'FAIL');
    assert.equal(checkKernel('weird').status, 'WARN');
    assert.equal(hasCapSysResource('CapEff:\t000001fffeffffff\n'), false);
    assert.equal(hasCapSysResource('CapEff:\t000001ffffffffff\n'), true);
  });
  it('table shows the fix', () => {
    assert.equal(doctorTable([{ name: 'kernel', status: 'OK', detail: 'Linux 6.18' }, { name: 'fuse', status: 'FAIL', detail: 'missing', fix: 'modprobe fuse' }]),
      'CHECK    STATUS   DETAIL\nkernel   OK       Linux 6.18\nfuse     FAIL     missing → modprobe fuse\n');
  });
});

describe('CRI log following', () => {
  it('parses lines', () => {
    assert.deepEqual(parseCriLogLine('2026-01-01T00:00:00.1Z stdout F hello world'), { time: '2026-01-01T00:00:00.1Z', stream: 'stdout', partial: false, text: 'hello world' });
    assert.deepEqual(parseCriLogLine('2026-01-01T00:00:00.1Z stderr P '), { time: '2026-01-01T00:00:00.1Z', stream: 'stderr', partial: true, text: '' });
    assert.equal(parseCriLogLine('garbage'), undefined);
  });
  it('follows a growing file, joins partial lines, prefixes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'vnode-logs-'));
    try {
      const path = join(dir, '0.log');
      const out: string[] = [];
      const f = new LogFollower(path, '[c] ', { stdout: (s) => out.push(`O:${s}`), stderr: (s) => out.push(`E:${s}`) });
      assert.equal(f.poll(), false); // not there yet
      writeFileSync(path, 't stdout F one\nt stderr P par');
      f.poll();
      assert.deepEqual(out, ['O:[c] one\n']);
      appendFileSync(path, 't\nt stderr F ial\nt stdout P no-end\n');
      f.poll();
      assert.deepEqual(out, ['O:[c] one\n', 'E:[c] partial\n']);
      f.flush();
      assert.deepEqual(out, ['O:[c] one\n', 'E:[c] partial\n', 'O:[c] no-end\n']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
