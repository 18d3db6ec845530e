// `vnode run`, `vnode ps` and `vnode inspect` against a private containerd (test/support),
// passed with --containerd. As root; skips otherwise.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { runtimeHandlers } from '../../../src/cli/containerd-select.js';
import { instanceId } from '../../../src/shim/instance.js';
import { availableContainerdVersions, startContainerd, type ContainerdInstance } from '../../support/containerd.js';
import { describeResult, manifest, podDirExists, removeManifests, startVnode, vnode, waitUntil } from './helpers.js';

const isRoot = process.getuid?.() === 0;
const version = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',')[0] ?? (availableContainerdVersions().includes('2') ? '2' : '1.7')) as '2' | '1.7';

describe(`vnode run on a private containerd ${version}`, { skip: isRoot ? false : 'needs root (real containerd)' }, () => {
  let ctd: ContainerdInstance;
  let image: string;
  const logRoot = '/var/log/pods';

  before(async () => {
    ctd = await startContainerd({ version });
    image = ctd.images.busybox;
  });
  after(async () => {
    await ctd?.stop();
    removeManifests();
  });
  // A test that failed half-way (or a runtime that hung) must not fail the next ones: no pod survives a test.
  afterEach(async () => {
    for (const p of await ctd.cri.listPodSandbox()) {
      for (const m of ['StopPodSandbox', 'RemovePodSandbox']) {
        try { await ctd.cri.call('runtime', m, { pod_sandbox_id: p.id }, 30_000); } catch (err) { console.error(`afterEach: ${m} ${p.id}: ${(err as Error).message}`); }
      }
    }
  });

  const pods = async () => (await ctd.cri.listPodSandbox()).length;

  it('runs a pod: prints its output, exits with its code, leaves no pod behind', async () => {
    const m = manifest((uid) => `apiVersion: v1
kind: Pod
metadata: {name: hello, namespace: cli-run, uid: ${uid}}
spec:
  restartPolicy: Never
  volumes: [{name: scratch, emptyDir: {}}]
  containers:
  - name: main
    image: ${image}
    command: [sh, -c, 'echo hello; id -u; echo data > /scratch/f; exit 3']
    volumeMounts: [{name: scratch, mountPath: /scratch}]
`);
    const r = await vnode(['run', '--containerd', ctd.address, m.path]);
    assert.equal(r.code, 3, describeResult(r));
    assert.equal(r.stdout, 'hello\n0\n', describeResult(r));
    assert.match(r.stderr, /creating pod cli-run\/hello \(runtime handler vnode/);
    assert.equal(await pods(), 0, 'the pod sandbox was removed');
    assert.equal(podDirExists(m.uid), false, 'the pod directory (emptyDir) was removed');
    assert.equal(existsSync(join(logRoot, `cli-run_hello_${m.uid}`)), false, 'the pod log directory was removed');
  });

  it('prefixes logs with the container name when there are several; exit code of the failing one', async () => {
    const m = manifest((uid) => `apiVersion: v1
kind: Pod
metadata: {name: two, uid: ${uid}}
spec:
  restartPolicy: Never
  initContainers:
  - {name: init, image: ${image}, command: [sh, -c, 'echo init-ran']}
  containers:
  - {name: a, image: ${image}, command: [sh, -c, 'echo from-a; echo err-a >&2']}
  - {name: b, image: ${image}, command: [sh, -c, 'sleep 1; echo from-b; exit 7']}
`);
    const r = await vnode(['run', '--containerd', ctd.address, m.path]);
    assert.equal(r.code, 7, describeResult(r));
    assert.deepEqual(r.stdout.split('\n').filter(Boolean).sort(), ['[a] from-a', '[b] from-b', '[init] init-ran']);
    assert.match(r.stderr, /^\[a\] err-a$/m);
    assert.equal(await pods(), 0);
  });

  it('long-running pod: vnode ps shows its vNode and ID range; SIGINT removes it, exit 130', async () => {
    const m = manifest((uid) => `apiVersion: v1
kind: Pod
metadata: {name: sleeper, namespace: cli-ps, uid: ${uid}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: main
    image: ${image}
    command: [sh, -c, 'echo started; trap "echo got-term; exit 0" TERM; while true; do sleep 0.2; done']
`);
    const p = startVnode(['run', '--containerd', ctd.address, m.path]);
    try {
      await waitUntil('the pod to print "started"', () => p.stdout().includes('started\n') || p.child.exitCode !== null);
      assert.equal(p.child.exitCode, null, `vnode run ended early: ${p.stderr()}`);

      const inst = instanceId(ctd.address);
      const ps = await vnode(['ps', '-o', 'json', '--instance', inst]);
      assert.equal(ps.code, 0, describeResult(ps));
      const list = JSON.parse(ps.stdout) as { items: { name: string; key: string; alive: boolean; range: { start: number; size: number }; pods: { name: string; namespace: string; containers: { name: string; status: string }[] }[] }[] };
      const v = list.items.find((i) => i.key === 'ns/cli-ps');
      assert.ok(v, `no vNode for namespace cli-ps in ${ps.stdout}`);
      assert.equal(v.alive, true);
      assert.ok(v.range.start >= 65536, `ID range starts at ${v.range.start}`);
      assert.equal(v.range.size, 65536);
      assert.deepEqual(v.pods.map((x) => `${x.namespace}/${x.name}`), ['cli-ps/sleeper']);
      assert.deepEqual(v.pods[0]!.containers.map((c) => [c.name, c.status]), [['main', 'running']]);

      const table = await vnode(['ps', '--instance', inst]);
      assert.equal(table.code, 0, describeResult(table));
      assert.match(table.stdout, /^NAME +KEY +ID RANGE +PODS +INIT PID +AGE\n/);
      assert.match(table.stdout, new RegExp(`^${v.name} +ns/cli-ps +${v.range.start}-${v.range.start + 65535} +1 +\\d+ +\\d+s$`, 'm'));

      const insp = await vnode(['inspect', v.name, '--instance', inst]);
      assert.equal(insp.code, 0, describeResult(insp));
      const detail = JSON.parse(insp.stdout) as { uidMap: string[]; namespaces: Record<string, string> };
      assert.match(detail.uidMap[0] ?? '', new RegExp(`^0 +${v.range.start} +65536$`));
      assert.match(detail.namespaces['user'] ?? '', /^user:\[\d+\]$/);
      const missing = await vnode(['inspect', 'no-such-vnode']);
      assert.equal(missing.code, 1, describeResult(missing));
      assert.match(missing.stderr, /vNode "no-such-vnode" not found/);

      p.child.kill('SIGINT');
      const r = await p.done;
      assert.equal(r.code, 130, describeResult(r));
      assert.match(r.stdout, /got-term/, 'the container got SIGTERM and its last output was shown');
      assert.equal(await pods(), 0, 'the pod was removed');
      assert.equal(podDirExists(m.uid), false);
      const after = await vnode(['ps', '-o', 'json', '--instance', inst]);
      assert.equal((JSON.parse(after.stdout) as { items: { key: string }[] }).items.some((i) => i.key === 'ns/cli-ps'), false, 'the vNode went with its last pod');
    } finally {
      if (p.child.exitCode === null) p.child.kill('SIGKILL');
    }
  });

  it('stdin: true: our stdin reaches the container (CRI Attach), EOF included', async () => {
    const m = manifest((uid) => `apiVersion: v1
kind: Pod
metadata: {name: reader, uid: ${uid}}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: ${image}
    stdin: true
    stdinOnce: true
    command: [sh, -c, 'read x; echo "got:$x"; cat; echo eof-seen; exit 4']
`);
    const r = await vnode(['run', '--containerd', ctd.address, m.path], {}, 60_000, 'first\nrest\n');
    assert.equal(r.code, 4, describeResult(r));
    assert.equal(r.stdout, 'got:first\nrest\neof-seen\n');
    assert.equal(await pods(), 0);
  });

  it('--detach leaves the pod running and prints its ID; vnode delete removes it and its files', async () => {
    const m = manifest((uid) => `apiVersion: v1
kind: Pod
metadata: {name: bg, namespace: cli-bg, uid: ${uid}}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: v, emptyDir: {}}]
  containers: [{name: main, image: ${image}, command: [sleep, '600'], volumeMounts: [{name: v, mountPath: /v}]}]
`);
    const r = await vnode(['run', '-d', '--containerd', ctd.address, m.path]);
    assert.equal(r.code, 0, describeResult(r));
    const id = r.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const st = await ctd.cri.podSandboxStatus(id);
    assert.equal(st.status!.state, 'SANDBOX_READY');
    assert.equal((await ctd.cri.listContainers({ pod_sandbox_id: id }))[0]?.state, 'CONTAINER_RUNNING');
    assert.equal(podDirExists(m.uid), true, 'the emptyDir stays while the pod runs');

    const missing = await vnode(['delete', 'bg', '--containerd', ctd.address]);
    assert.equal(missing.code, 1, describeResult(missing));
    assert.match(missing.stderr, /pod default\/bg not found/);
    const d = await vnode(['delete', 'bg', '-n', 'cli-bg', '--containerd', ctd.address]);
    assert.equal(d.code, 0, describeResult(d));
    assert.equal(d.stdout, 'pod "bg" deleted\n');
    assert.equal(await pods(), 0);
    assert.equal(podDirExists(m.uid), false);
    assert.equal(existsSync(join(logRoot, `cli-bg_bg_${m.uid}`)), false);
  });

  it('--timeout stops the pod and exits 124', async () => {
    const m = manifest((uid) => `apiVersion: v1
kind: Pod
metadata: {name: slow, uid: ${uid}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: main, image: ${image}, command: [sleep, '600']}]
`);
    const r = await vnode(['run', '--containerd', ctd.address, '--timeout', '3s', m.path]);
    assert.equal(r.code, 124, describeResult(r));
    assert.match(r.stderr, /still running after --timeout 3s: stopped/);
    assert.equal(await pods(), 0);
  });

  it('refuses hostPort before creating anything: exit 2, names pod, container and port', async () => {
    const m = manifest((uid) => `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: cli-hp, uid: ${uid}}
spec:
  containers:
  - name: server
    image: ${image}
    ports: [{containerPort: 8080, hostPort: 18080}]
`);
    const r = await vnode(['run', '--containerd', ctd.address, m.path]);
    assert.equal(r.code, 2, describeResult(r));
    assert.match(r.stderr, /spec\.containers\[0\]\.ports\[0\]: pod cli-hp\/web, container server, port 8080\/TCP: hostPort 18080 is not supported in a vNode/);
    assert.equal(await pods(), 0, 'no sandbox was created');
    assert.equal(podDirExists(m.uid), false);
  });

  it('bad manifest: exit 2 naming the field, nothing created', async () => {
    const m = manifest((uid) => `apiVersion: v1\nkind: Pod\nmetadata: {name: bad, uid: ${uid}}\nspec:\n  containers: [{name: main}]\n`);
    const r = await vnode(['run', '--containerd', ctd.address, m.path]);
    assert.equal(r.code, 2, describeResult(r));
    assert.equal(r.stderr, 'vnode run: spec.containers[0].image: Required value\n');
    assert.equal(await pods(), 0);
    assert.equal(podDirExists(m.uid), false);
  });

  it('missing image: exit 1, names the image and how to import it, nothing created', async () => {
    const m = manifest((uid) => `apiVersion: v1\nkind: Pod\nmetadata: {name: noimg, uid: ${uid}}\nspec:\n  containers: [{name: main, image: localhost/nope:1}]\n`);
    const r = await vnode(['run', '--containerd', ctd.address, m.path]);
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /image "localhost\/nope:1" is not present in containerd at .*; import it with: ctr --address \S+ -n k8s\.io images import/);
    assert.equal(await pods(), 0);
    assert.equal(podDirExists(m.uid), false);
  });

  it('unknown runtime handler: clear error, nothing left', async () => {
    const m = manifest((uid) => `apiVersion: v1\nkind: Pod\nmetadata: {name: nohandler, uid: ${uid}}\nspec:\n  runtimeClassName: nonexistent\n  containers: [{name: main, image: ${image}}]\n`);
    const r = await vnode(['run', '--containerd', ctd.address, m.path]);
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /nonexistent/);
    assert.equal(await pods(), 0);
    assert.equal(podDirExists(m.uid), false);
  });

  it('finds the runtime handlers of a containerd through CRI Status (how a system containerd with vnode is recognised)', async () => {
    const names = await runtimeHandlers(ctd.cri);
    assert.ok(names.includes('vnode') && names.includes('runc'), `handlers: ${names.join(', ')}`);
  });

  it('without --containerd: uses the system containerd when it has a vnode handler (VNODE_SYSTEM_CONTAINERD points at it here)', async () => {
    const m = manifest((uid) => `apiVersion: v1\nkind: Pod\nmetadata: {name: sys, uid: ${uid}}\nspec:\n  restartPolicy: Never\n  containers: [{name: main, image: ${image}, command: [echo, via-system]}]\n`);
    // if the system containerd were not chosen, vnode would try to start its own: no binary, so the run fails
    const r = await vnode(['run', m.path], { CONTAINERD_ADDRESS: '', VNODE_SYSTEM_CONTAINERD: ctd.address, VNODE_CONTAINERD_BIN: '/nonexistent/containerd', VNODE_RUN_DIR: '/nonexistent-vnode-run-dir' });
    assert.equal(r.code, 0, describeResult(r));
    assert.equal(r.stdout, 'via-system\n');
    assert.match(r.stderr, new RegExp(`containerd ${ctd.address.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\)…`));
    assert.doesNotMatch(r.stderr, /starting containerd/);
    assert.equal(await pods(), 0);
  });

  it('usage errors exit 2', async () => {
    const r = await vnode(['run']);
    assert.equal(r.code, 2, describeResult(r));
    assert.match(r.stderr, /missing POD\.yaml/);
    const bad = await vnode(['ps', '-o', 'yaml']);
    assert.equal(bad.code, 2, describeResult(bad));
    const unknown = await vnode(['frobnicate']);
    assert.equal(unknown.code, 2);
  });
});
