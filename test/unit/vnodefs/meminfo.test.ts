import assert from 'node:assert/strict';
import { test } from 'node:test';
import { meminfo, meminfoLine } from '../../../src/vnodefs/generators/meminfo.js';
import { host, ctx, kv, V1_A, V2_B, V2_B_CTR } from '../../fixtures/vnodefs/fixtures.js';

const MiB_kB = 1024;

test('meminfo line format matches the kernel (label to 16 columns, value in 8, " kB")', () => {
  assert.equal(meminfoLine('MemTotal', 262144), 'MemTotal:         262144 kB\n');
  assert.equal(meminfoLine('HugePages_Total', 0, false), 'HugePages_Total:       0\n');
});

test('v1: MemTotal is the cgroup limit, free = limit - usage, swap from memsw', () => {
  const text = meminfo(ctx(V1_A));
  const m = kv(text);
  assert.equal(m.get('MemTotal'), 256 * MiB_kB);
  assert.equal(m.get('MemFree'), 156 * MiB_kB);
  // available = free + active_file + inactive_file
  assert.equal(m.get('MemAvailable'), (156 + 15 + 25) * MiB_kB);
  assert.equal(m.get('Cached'), 40 * MiB_kB);
  assert.equal(m.get('Active(anon)'), 30 * MiB_kB);
  assert.equal(m.get('Inactive(file)'), 25 * MiB_kB);
  assert.equal(m.get('AnonPages'), 50 * MiB_kB);
  assert.equal(m.get('Shmem'), 1 * MiB_kB);
  assert.equal(m.get('SwapTotal'), 256 * MiB_kB);
  assert.equal(m.get('SwapFree'), 246 * MiB_kB);
  assert.equal(m.get('AnonHugePages'), 2 * MiB_kB);
});

test('v2: limit, usage and memory.stat names; memory.swap.max 0 gives no swap', () => {
  const m = kv(meminfo(ctx(V2_B)));
  assert.equal(m.get('MemTotal'), 512 * MiB_kB);
  assert.equal(m.get('MemFree'), 312 * MiB_kB);
  assert.equal(m.get('Slab'), 5 * MiB_kB);
  assert.equal(m.get('SReclaimable'), 3 * MiB_kB);
  assert.equal(m.get('KernelStack'), 1 * MiB_kB);
  assert.equal(m.get('SwapTotal'), 0);
  assert.equal(m.get('SwapFree'), 0);
});

test('v2: a container without its own limit gets the vNode limit (walks up memory.max)', () => {
  const m = kv(meminfo(ctx(V2_B_CTR)));
  assert.equal(m.get('MemTotal'), 512 * MiB_kB);
  assert.equal(m.get('MemFree'), (512 - 50) * MiB_kB);
});

test('every host line is present, in order, and no host-specific value leaks', () => {
  const hostText = host.proc('meminfo')!;
  const hostKeys = [...kv(hostText).keys()];
  const text = meminfo(ctx(V1_A));
  assert.deepEqual([...kv(text).keys()], hostKeys);
  for (const line of text.trimEnd().split('\n')) assert.match(line, /^[^:]+:\s+\d+( kB)?$/);
  const hostValues = new Map(kv(hostText));
  for (const [k, v] of kv(text)) {
    if (k === 'VmallocTotal' || k === 'Hugepagesize' || v === 0) continue;
    assert.notEqual(v, hostValues.get(k), `${k} shows the host's value`);
  }
  assert.ok(!text.includes('16318460'));
});
