import assert from 'node:assert/strict';
import { test } from 'node:test';
import { logLines, parseCriLog } from '../../support/cri.js';

test('CRI log lines: full and partial, per stream', () => {
  const text = [
    '2026-11-28T06:00:00.000000001Z stdout F hello',
    '2026-11-28T06:00:00.000000002Z stderr F oops',
    '2026-11-28T06:00:00.000000003Z stdout P par',
    '2026-11-28T06:00:00.000000004Z stdout F tial',
    '2026-11-28T06:00:00.000000005Z stdout F ',
    '',
  ].join('\n');
  const entries = parseCriLog(text);
  assert.equal(entries.length, 5);
  assert.deepEqual(entries[0], { time: '2026-11-28T06:00:00.000000001Z', stream: 'stdout', tag: 'F', text: 'hello' });
  assert.deepEqual(logLines(entries, 'stdout'), ['hello', 'partial', '']);
  assert.deepEqual(logLines(entries, 'stderr'), ['oops']);
  assert.throws(() => parseCriLog('garbage line\n'), /not a CRI log line/);
});
