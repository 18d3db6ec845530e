import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diskstats } from '../../../src/vnodefs/generators/diskstats.js';
import { loadavg } from '../../../src/vnodefs/generators/loadavg.js';
import { pressure } from '../../../src/vnodefs/generators/pressure.js';
import { SWAPS_HEADER, swaps } from '../../../src/vnodefs/generators/swaps.js';
import { LoadTracker } from '../../../src/vnodefs/load.js';
import { CgroupReader } from '../../../src/cgroup/index.js';
import { ctx, V1_A, V2_B } from '../../fixtures/vnodefs/fixtures.js';

test('loadavg shows the vNode load, runnable/total and last PID', () => {
  assert.equal(loadavg(ctx(V1_A)), '0.50 0.25 0.13 2/7 42\n');
});

test('LoadTracker folds samples like the kernel (1-minute average after 60 s of 1 runnable task)', () => {
  const t = LoadTracker.ofCgroup(new CgroupReader(V1_A), 0);
  for (let i = 0; i < 12; i++) t.fold(1);
  const [a1, a5, a15] = t.snapshot().avg;
  assert.ok(Math.abs(a1 - (1 - Math.exp(-1))) < 1e-9);
  assert.ok(a5 < a1 && a15 < a5);
});

test('diskstats v1: only devices with IO, counters from blkio, sectors = bytes/512', () => {
  assert.equal(diskstats(ctx(V1_A)), '   8       0 sda 100 0 8000 0 200 0 16000 0 0 0 0 0 0 0 0 0 0\n');
});

test('diskstats v2: from io.stat; a device with zero IO is left out', () => {
  assert.equal(diskstats(ctx(V2_B)), ' 259       0 nvme0n1 10 0 2048 0 20 0 4096 0 0 0 0 0 0 0 0 0 0\n');
});

test('swaps: one virtual area sized by the swap limit (v1), header only without swap (v2)', () => {
  const t = swaps(ctx(V1_A));
  assert.ok(t.startsWith(SWAPS_HEADER));
  const f = t.split('\n')[1]!.split(/\s+/);
  assert.deepEqual(f.slice(0, 4), ['none', 'virtual', String(256 * 1024), String(10 * 1024)]);
  assert.equal(swaps(ctx(V2_B)), SWAPS_HEADER);
});

test('pressure: the cgroup PSI on v2, zeros on v1 (never the host)', () => {
  assert.match(pressure('cpu')(ctx(V2_B)), /total=4444/);
  assert.equal(pressure('memory')(ctx(V1_A)), 'some avg10=0.00 avg60=0.00 avg300=0.00 total=0\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n');
});
