// The manager's /metrics and /healthz (src/metrics), scraped through its socket while a
// pod starts on a real containerd: the Task API counters, pods per vNode, vnodefs
// requests and seccomp notifications move as the pod does what they count.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { availableContainerdVersions } from '../../support/containerd.js';
import { instanceDir, vnodeSuite } from '../../support/vnode-host.js';
import { withPod } from '../../support/cri.js';

const version = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',')[0] ?? (availableContainerdVersions().includes('2') ? '2' : '1.7')) as '2' | '1.7';

function get(socketPath: string, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET', timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The value of one sample line `name{labels} value` (labels given in order, as prom-client writes them). */
function sample(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ''} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describe(`manager metrics and health (containerd ${version})`, () => {
  const suite = vnodeSuite({ version });

  it('serves /healthz and /metrics on its socket, and the counters move with a pod', async () => {
    // the first pod starts the manager
    await withPod(suite.env, { namespace: 'metrics-warm' }, async () => undefined);
    const socket = join(instanceDir(suite.ctd), 'metrics.sock');
    const health = await get(socket, '/healthz');
    assert.equal(health.status, 200);
    assert.equal((JSON.parse(health.body) as { ok: boolean; vnodefs: string }).vnodefs, 'mounted');
    const before = (await get(socket, '/metrics')).body;

    await withPod(suite.env, { namespace: 'metrics-a' }, async (pod) => {
      const cid = await pod.runContainer({ name: 'c', command: ['sleep', '3600'] });
      await pod.waitForState(cid, 'CONTAINER_RUNNING');
      const r = await suite.env.cri.execSync(cid, ['sh', '-c', 'cat /proc/meminfo >/dev/null; free >/dev/null'], 15);
      assert.equal(r.exit_code, 0, r.stderr.toString());
      const during = await get(socket, '/metrics');
      assert.equal(during.status, 200);
      assert.match(during.type, /^text\/plain; version=0\.0\.4/);
      const m = during.body;
      // a sandbox and a container: two creates and two starts more, all OK
      assert.equal(sample(m, 'vnode_task_api_calls_total', 'verb="create",code="OK"') - sample(before, 'vnode_task_api_calls_total', 'verb="create",code="OK"'), 2);
      assert.equal(sample(m, 'vnode_task_api_calls_total', 'verb="start",code="OK"') - sample(before, 'vnode_task_api_calls_total', 'verb="start",code="OK"'), 3, 'two task starts and the exec');
      assert.ok(sample(m, 'vnode_task_api_call_seconds_count', 'verb="create"') >= 2);
      assert.equal(sample(m, 'vnode_vnodes'), 1, 'the warm-up pod\'s vNode went with it');
      assert.equal(sample(m, 'vnode_pods', 'vnode="ns-metrics-a"'), 1, 'one pod in its vNode');
      assert.ok(sample(m, 'vnode_vnodefs_requests_total', 'op="read",result="ok"') > sample(before, 'vnode_vnodefs_requests_total', 'op="read",result="ok"'), 'reading /proc/meminfo went through vnodefs');
      assert.ok(sample(m, 'vnode_seccomp_notifications_total', 'syscall="sysinfo"') > sample(before, 'vnode_seccomp_notifications_total', 'syscall="sysinfo"'), 'free asked sysinfo(2)');
      assert.ok(sample(m, 'vnode_id_ranges_free') > 0);
      assert.ok(sample(m, 'vnode_manager_process_resident_memory_bytes') > 10 * 1024 * 1024);
    });
    const after = (await get(socket, '/metrics')).body;
    assert.equal(sample(after, 'vnode_vnodes'), 0);
    assert.equal(sample(after, 'vnode_task_api_calls_total', 'verb="delete",code="OK"') - sample(before, 'vnode_task_api_calls_total', 'verb="delete",code="OK"'), 3, 'container, exec and sandbox deleted');
    assert.equal((await get(socket, '/nope')).status, 404);
  });
});
