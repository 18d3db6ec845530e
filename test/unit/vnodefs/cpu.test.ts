import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCpuList } from '../../../src/cgroup/index.js';
import { cpuinfo } from '../../../src/vnodefs/generators/cpuinfo.js';
import { cpuList } from '../../../src/vnodefs/generators/cpus.js';
import { stat } from '../../../src/vnodefs/generators/stat.js';
import { uptime } from '../../../src/vnodefs/generators/uptime.js';
import { ctx, V1_A, V2_B } from '../../fixtures/vnodefs/fixtures.js';

test('parseCpuList', () => {
  assert.deepEqual(parseCpuList('0-2,5,7-8\n'), [0, 1, 2, 5, 7, 8]);
  assert.deepEqual(parseCpuList(''), []);
});

test('1.5 CPUs of quota show as 2 CPUs numbered from 0 (v1 and v2)', () => {
  for (const loc of [V1_A, V2_B]) {
    const text = cpuinfo(ctx(loc));
    const procs = [...text.matchAll(/^processor\s*: (\d+)$/gm)].map((m) => Number(m[1]));
    assert.deepEqual(procs, [0, 1]);
    assert.match(text, /^siblings\t: 2$/m);
    assert.match(text, /^cpu cores\t: 2$/m);
    assert.equal(cpuList(ctx(loc)), '0-1\n');
  }
});

test('v2 cpuset 1-2: cpuinfo blocks come from host CPUs 1 and 2, renumbered', () => {
  const text = cpuinfo(ctx(V2_B));
  // host apicids of CPUs 1,2 were 2 and 4; renumbered to 0 and 1
  assert.deepEqual([...text.matchAll(/^apicid\s*: (\d+)$/gm)].map((m) => m[1]), ['0', '1']);
  assert.ok(text.endsWith('\n\n'));
});

test('/proc/stat: per-vCPU lines from cpuacct, busiest host CPUs first; host counters absent', () => {
  const text = stat(ctx(V1_A));
  const lines = text.split('\n');
  // host CPUs used 1.5, 4.5, 2.5, 3.5 s; folded onto 2 vCPUs: [4.5+2.5, 3.5+1.5] = 7 s, 5 s
  const cpu0 = lines.find((l) => l.startsWith('cpu0 '))!.split(' ').map(Number);
  const cpu1 = lines.find((l) => l.startsWith('cpu1 '))!.split(' ').map(Number);
  assert.equal(cpu0[1]! + cpu0[3]!, 700);
  assert.equal(cpu1[1]! + cpu1[3]!, 500);
  // idle = 100 s elapsed - busy
  assert.equal(cpu0[4], 10000 - 700);
  assert.equal(cpu1[4], 10000 - 500);
  assert.ok(!lines.some((l) => l.startsWith('cpu2')));
  const total = lines[0]!.split(/\s+/).map(Number);
  assert.equal(total[1]! + total[3]!, 1200);
  assert.match(text, /^btime 1799999900$/m);
  assert.match(text, /^processes 42$/m);
  assert.match(text, /^procs_running 2$/m);
  assert.ok(!text.includes('987654321') && !text.includes('424242') && !text.includes('1700000000'));
});

test('/proc/stat v2: CPU time spread evenly, user/system split kept', () => {
  const lines = stat(ctx(V2_B)).split('\n');
  const cpu0 = lines.find((l) => l.startsWith('cpu0 '))!.split(' ').map(Number);
  assert.equal(cpu0[1], 100); // 2 s user over 2 vCPUs = 1 s = 100 ticks
  assert.equal(cpu0[3], 50);
});

test('/proc/uptime: since the vNode started, idle = sum of vCPU idle', () => {
  assert.equal(uptime(ctx(V1_A)), `100.00 ${((20000 - 1200) / 100).toFixed(2)}\n`);
});
