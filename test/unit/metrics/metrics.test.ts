// src/metrics: the listen address parser and the registry fed by the channels.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { managerMetrics, MetricsAddressError, parseListenAddress } from '../../../src/metrics/index.js';
import { seccompNotifications } from '../../../src/seccomp/index.js';
import { taskApiCalls } from '../../../src/taskapi/index.js';
import { vnodefsRequests } from '../../../src/vnodefs/index.js';

test('listen addresses: socket paths, host:port, [v6]:port; anything else is refused with what to fix', () => {
  assert.deepEqual(parseListenAddress('/run/vnode/x/metrics.sock'), { path: '/run/vnode/x/metrics.sock' });
  assert.deepEqual(parseListenAddress('127.0.0.1:9465'), { host: '127.0.0.1', port: 9465 });
  assert.deepEqual(parseListenAddress('[::1]:9465'), { host: '::1', port: 9465 });
  assert.deepEqual(parseListenAddress('localhost:80'), { host: 'localhost', port: 80 });
  for (const bad of ['9465', '127.0.0.1:', '127.0.0.1:70000', 'host:port', '']) {
    assert.throws(() => parseListenAddress(bad), (e: unknown) => e instanceof MetricsAddressError && e.code === 'VNODE_METRICS_ADDRESS' && /VNODE_METRICS_ADDRESS/.test(e.message), bad);
  }
});

test('the registry counts what the channels publish, and reads gauges at scrape time', async () => {
  let pods: Record<string, number> = { 'ns-a': 2 };
  const m = managerMetrics(() => ({ podsPerVnode: pods, freeIdRanges: 4090 }));
  try {
    taskApiCalls.publish({ verb: 'create', seconds: 0.02, code: '' });
    taskApiCalls.publish({ verb: 'create', seconds: 0.3, code: 'VNODE_INVALID_SPEC' });
    vnodefsRequests.publish({ opcode: 15, seconds: 0.00004, errno: 0 });
    vnodefsRequests.publish({ opcode: 1, seconds: 0.00002, errno: 2 });
    seccompNotifications.publish({ syscall: 'sysinfo' });
    let text = await m.registry.metrics();
    assert.match(text, /^vnode_task_api_calls_total\{verb="create",code="OK"\} 1$/m);
    assert.match(text, /^vnode_task_api_calls_total\{verb="create",code="VNODE_INVALID_SPEC"\} 1$/m);
    assert.match(text, /^vnode_task_api_call_seconds_bucket\{le="0.025",verb="create"\} 1$/m);
    assert.match(text, /^vnode_task_api_call_seconds_count\{verb="create"\} 2$/m);
    assert.match(text, /^vnode_vnodefs_requests_total\{op="read",result="ok"\} 1$/m);
    assert.match(text, /^vnode_vnodefs_requests_total\{op="lookup",result="2"\} 1$/m);
    assert.match(text, /^vnode_seccomp_notifications_total\{syscall="sysinfo"\} 1$/m);
    assert.match(text, /^vnode_vnodes 1$/m);
    assert.match(text, /^vnode_pods\{vnode="ns-a"\} 2$/m);
    assert.match(text, /^vnode_id_ranges_free 4090$/m);
    assert.match(text, /^vnode_manager_process_resident_memory_bytes \d+$/m);
    pods = {};
    text = await m.registry.metrics();
    assert.match(text, /^vnode_vnodes 0$/m);
    assert.doesNotMatch(text, /^vnode_pods\{/m, 'a vNode that went is no longer listed');
  } finally {
    m.close();
  }
  assert.equal(taskApiCalls.hasSubscribers, false, 'close unsubscribes');
});
