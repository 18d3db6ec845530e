// Reusable CRI flows, parameterised by runtime handler (CriEnv.handler). The runc handler
// passing them is the reference behaviour; the vnode handler must pass the same flows.
//
//   for (const [name, flow] of Object.entries(referenceFlows)) test(name, () => flow(env));
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runStream, openStream } from '../../src/k8s/cri/index.js';
import { logLines, sleep, waitFor, withPod, type CriEnv, type TestPod } from './cri.js';
import { cgroupParentRel, pidsBelow } from './host-cgroups.js';

export type Flow = (env: CriEnv) => Promise<void>;

const SLEEPER = { command: ['sleep', '3600'] };

/** RunPodSandbox + Create + Start busybox; ExecSync `id` → uid 0; ExecSync exit codes. */
export async function flowExecSyncId(env: CriEnv): Promise<void> {
  await withPod(env, {}, async (pod) => {
    const cid = await pod.runContainer({ name: 'main', ...SLEEPER });
    const st = await pod.waitForState(cid, 'CONTAINER_RUNNING');
    assert.equal(st.state, 'CONTAINER_RUNNING');
    const id = await env.cri.execSync(cid, ['id'], 10);
    assert.equal(id.exit_code, 0, `id failed: ${id.stderr.toString()}`);
    assert.match(id.stdout.toString(), /^uid=0\(root\) gid=0\(root\)/);
    const three = await env.cri.execSync(cid, ['sh', '-c', 'echo to-out; echo to-err >&2; exit 3'], 10);
    assert.equal(three.exit_code, 3);
    assert.equal(three.stdout.toString(), 'to-out\n');
    assert.equal(three.stderr.toString(), 'to-err\n');
    const ok = await env.cri.execSync(cid, ['true'], 10);
    assert.equal(ok.exit_code, 0);
  });
}

/** Streaming exec (WebSocket remote-command) without and with a tty, with stdin, exit codes. */
export async function flowStreamingExec(env: CriEnv): Promise<void> {
  await withPod(env, {}, async (pod) => {
    const cid = await pod.runContainer({ name: 'main', ...SLEEPER });
    await pod.waitForState(cid, 'CONTAINER_RUNNING');

    // no tty: separate stdout and stderr, exit code from the status channel
    const url = await env.cri.exec({ container_id: cid, cmd: ['sh', '-c', 'echo out-line; echo err-line >&2; exit 5'], stdout: true, stderr: true });
    const r = await runStream(url);
    assert.equal(r.error, undefined);
    assert.equal(r.stdout.toString(), 'out-line\n');
    assert.equal(r.stderr.toString(), 'err-line\n');
    assert.equal(r.exitCode, 5);

    const ok = await runStream(await env.cri.exec({ container_id: cid, cmd: ['id', '-u'], stdout: true, stderr: true }));
    assert.equal(ok.exitCode, 0);
    assert.equal(ok.stdout.toString(), '0\n');

    // stdin: the data reaches the process (and EOF, where the protocol can say it)
    const s = await openStream(await env.cri.exec({ container_id: cid, cmd: ['sh', '-c', 'read line; echo "got:$line"'], stdin: true, stdout: true, stderr: true }));
    s.write('hello-stdin\n');
    const sr = await s.done;
    assert.equal(sr.stdout.toString(), 'got:hello-stdin\n');
    assert.equal(sr.exitCode, 0);

    // tty: one stream, a terminal on the other side, CRLF line endings, exit code still reported.
    // With stdin, as `kubectl exec -it` does: without stdin, containerd's runc handler loses
    // the output of short-lived tty execs now and then (1.6, 1.7 and 2.x).
    const t = await runStream(await env.cri.exec({ container_id: cid, stdin: true, cmd: ['sh', '-c', 'tty; for i in 1 2 3 4 5 6 7 8 9 10; do s=$(stty size 2>/dev/null); [ "$s" = "30 100" ] && break; sleep 0.2; done; echo "size:$s"; echo tty-line; exit 4'], tty: true, stdout: true }), { size: { width: 100, height: 30 } });
    const out = t.stdout.toString();
    assert.match(out, /^\/dev\/pts\/\d+\r\n/, `tty output: ${JSON.stringify(out)}`);
    assert.match(out, /tty-line\r\n/);
    assert.equal(t.stderr.length, 0);
    assert.equal(t.exitCode, 4);
    // the resize message reached the terminal (stty size = rows cols); it is applied asynchronously
    assert.match(out, /\r\nsize:30 100\r\n/, `tty size not applied: ${JSON.stringify(out)}`);
  });
}

/** Attach to a container that reads stdin (stdin + stdin_once) and watch its output and exit. */
export async function flowAttach(env: CriEnv): Promise<void> {
  await withPod(env, {}, async (pod) => {
    const cid = await pod.createContainer({ name: 'reader', command: ['sh', '-c', 'read line; echo "attached:$line"; exit 7'], stdin: true, stdinOnce: true });
    await env.cri.startContainer(cid);
    await pod.waitForState(cid, 'CONTAINER_RUNNING');
    const s = await openStream(await env.cri.attach({ container_id: cid, stdin: true, stdout: true, stderr: true }));
    s.write('via-attach\n');
    const r = await s.done;
    assert.match(r.stdout.toString(), /attached:via-attach\n/);
    const st = await pod.waitForExit(cid);
    assert.equal(st.exit_code, 7);
  });
}

/** stdout and stderr land in the CRI log file; exit codes 0 and 3 in ContainerStatus. */
export async function flowLogsAndExitCodes(env: CriEnv): Promise<void> {
  await withPod(env, {}, async (pod) => {
    const zero = await pod.runContainer({ name: 'zero', command: ['sh', '-c', 'echo hello-stdout; echo hello-stderr >&2; printf partial-no-newline'] });
    const three = await pod.runContainer({ name: 'three', command: ['sh', '-c', 'echo bye; exit 3'] });
    const s0 = await pod.waitForExit(zero);
    const s3 = await pod.waitForExit(three);
    assert.equal(s0.exit_code, 0);
    assert.equal(s3.exit_code, 3);
    assert.equal(s0.reason, 'Completed');
    assert.equal(s3.reason, 'Error');
    // created <= started and created <= finished; started vs finished is not ordered for a
    // process that exits at once (containerd 2.x stamps started_at after Start returns).
    const times = `created ${s0.created_at} started ${s0.started_at} finished ${s0.finished_at}`;
    assert.ok(BigInt(s0.started_at) >= BigInt(s0.created_at) && BigInt(s0.created_at) > 0n, times);
    assert.ok(BigInt(s0.finished_at) >= BigInt(s0.created_at), times);
    assert.equal(s0.log_path, pod.logPath('zero'));

    const entries = await waitFor('log lines', () => {
      const e = pod.readLog('zero');
      return logLines(e, 'stdout').includes('partial-no-newline') ? e : undefined;
    }, 10_000);
    for (const e of entries) assert.match(e.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/);
    assert.deepEqual(logLines(entries, 'stdout'), ['hello-stdout', 'partial-no-newline']);
    assert.deepEqual(logLines(entries, 'stderr'), ['hello-stderr']);
    const full = entries.find((e) => e.text === 'hello-stdout');
    assert.equal(full?.tag, 'F');
    // the raw line format: "<time> stdout F hello-stdout"
    const raw = readFileSync(pod.logPath('zero'), 'utf8');
    assert.match(raw, /^\S+ stdout F hello-stdout$/m);
    assert.match(raw, /^\S+ stderr F hello-stderr$/m);
    assert.match(raw, /^\S+ stdout P partial-no-newline$/m);
    assert.deepEqual(logLines(pod.readLog('three'), 'stdout'), ['bye']);
  });
}

/** StopContainer with a timeout on a process that ignores SIGTERM → SIGKILL after the timeout, exit 137. */
export async function flowStopTimeout(env: CriEnv): Promise<void> {
  await withPod(env, {}, async (pod) => {
    const cid = await pod.runContainer({ name: 'stubborn', command: ['sh', '-c', 'trap "" TERM; echo ready; while true; do sleep 1; done'] });
    await pod.waitForState(cid, 'CONTAINER_RUNNING');
    await waitFor('container ready', () => logLines(pod.readLog('stubborn'), 'stdout').includes('ready'), 10_000);
    const t0 = Date.now();
    await env.cri.stopContainer(cid, 2);
    const elapsed = Date.now() - t0;
    const st = await pod.status(cid);
    assert.equal(st.state, 'CONTAINER_EXITED');
    assert.equal(st.exit_code, 137);
    assert.ok(elapsed >= 1_900, `StopContainer returned after ${elapsed} ms, before the 2 s timeout`);
    assert.ok(elapsed < 15_000, `StopContainer took ${elapsed} ms`);

    // a process that handles SIGTERM stops at once with its own exit code
    const polite = await pod.runContainer({ name: 'polite', command: ['sh', '-c', 'trap "exit 0" TERM; echo ready; while true; do sleep 0.1; done'] });
    await waitFor('polite ready', () => logLines(pod.readLog('polite'), 'stdout').includes('ready'), 10_000);
    const t1 = Date.now();
    await env.cri.stopContainer(polite, 10);
    const st2 = await pod.status(polite);
    assert.equal(st2.exit_code, 0);
    assert.ok(Date.now() - t1 < 8_000, 'SIGTERM was not delivered');
  });
}

/** The sandbox lifecycle and what it leaves on the host: nothing once removed. */
export async function flowSandboxLifecycle(env: CriEnv): Promise<void> {
  let podRef: TestPod | undefined;
  await withPod(env, {}, async (pod) => {
    podRef = pod;
    const st = await env.cri.podSandboxStatus(pod.id);
    assert.equal(st.status!.state, 'SANDBOX_READY');
    assert.equal(st.status!.metadata!.name, pod.config.metadata!.name);
    assert.equal(st.status!.runtime_handler, env.handler);
    assert.match(st.status!.network?.ip ?? '', /^\d+\.\d+\.\d+\.\d+$/, 'pod has an IP');
    const listed = await env.cri.listPodSandbox({ id: pod.id });
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.runtime_handler, env.handler);

    const cid = await pod.runContainer({ name: 'main', ...SLEEPER });
    await pod.waitForState(cid, 'CONTAINER_RUNNING');
    const containers = await env.cri.listContainers({ pod_sandbox_id: pod.id });
    assert.deepEqual(containers.map((c) => c.id), [cid]);
    assert.ok(cgroupProcs(env, pod).length >= 2, 'pause and sleep run in the pod cgroup');
    assert.ok(cgroupChildren(pod).length > 0, 'sandbox and container cgroups exist below the pod cgroup');

    await env.cri.stopPodSandbox(pod.id);
    const stopped = await env.cri.podSandboxStatus(pod.id);
    assert.equal(stopped.status!.state, 'SANDBOX_NOTREADY');
    assert.equal((await pod.status(cid)).state, 'CONTAINER_EXITED');
    assert.deepEqual(cgroupProcs(env, pod), [], 'no process left in the pod cgroup after StopPodSandbox');

    await env.cri.removePodSandbox(pod.id);
    assert.deepEqual(await env.cri.listPodSandbox({ id: pod.id }), []);
    assert.deepEqual(await env.cri.listContainers({ pod_sandbox_id: pod.id }), []);
    // idempotent, as kubelet expects
    await env.cri.stopPodSandbox(pod.id).catch(() => undefined);
  });
  assert.ok(podRef);
  assert.deepEqual(cgroupChildren(podRef), [], 'no container cgroup left below the pod cgroup');
  if (env.stateDir) {
    const leftovers = mountsContaining(podRef.id);
    assert.deepEqual(leftovers, [], 'no mount of the sandbox left');
    const taskDir = findTaskDirs(env.stateDir, podRef.id);
    assert.deepEqual(taskDir, [], 'no task state of the sandbox left');
  }
}

const MiB = 1024 * 1024;

/** The container's memory limit and CFS quota as the container sees them (cgroup v1 or v2). */
async function limitsInside(env: CriEnv, cid: string): Promise<{ memory: string; cpu: string }> {
  const r = await env.cri.execSync(cid, ['sh', '-c',
    'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max; ' +
    '(cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cat /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us 2>/dev/null) || cut -d" " -f1 /sys/fs/cgroup/cpu.max'], 10);
  assert.equal(r.exit_code, 0, r.stderr.toString());
  const [memory = '', cpu = ''] = r.stdout.toString().trim().split('\n');
  return { memory, cpu };
}

/** The container's main pid on the host, from verbose ContainerStatus (info.pid, as kubelet tools read it). */
export async function containerPid(env: CriEnv, cid: string): Promise<number> {
  const st = await env.cri.containerStatus(cid, true);
  const info = JSON.parse(st.info['info'] ?? '{}') as { pid?: number };
  assert.ok(info.pid && info.pid > 0, `no pid in verbose ContainerStatus: ${st.info['info']}`);
  return info.pid;
}

/** CPU and memory limits land in the container's cgroup; UpdateContainerResources changes them; ContainerStats reports usage. */
export async function flowResourcesAndStats(env: CriEnv): Promise<void> {
  await withPod(env, {}, async (pod) => {
    const cid = await pod.runContainer({
      name: 'limited', ...SLEEPER,
      resources: { cpu_period: 100_000, cpu_quota: 50_000, cpu_shares: 512, memory_limit_in_bytes: 64 * MiB },
    });
    await pod.waitForState(cid, 'CONTAINER_RUNNING');
    assert.deepEqual(await limitsInside(env, cid), { memory: String(64 * MiB), cpu: '50000' });
    const pid = await containerPid(env, cid);
    assert.ok(readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep\0'), 'info.pid is the container process');

    await env.cri.updateContainerResources(cid, { cpu_period: 100_000, cpu_quota: 25_000, cpu_shares: 256, memory_limit_in_bytes: 128 * MiB });
    assert.deepEqual(await limitsInside(env, cid), { memory: String(128 * MiB), cpu: '25000' });
    const st = await pod.status(cid);
    if (st.resources?.linux) {
      assert.equal(String(st.resources.linux.memory_limit_in_bytes), String(128 * MiB));
      assert.equal(String(st.resources.linux.cpu_quota), '25000');
    }

    await env.cri.execSync(cid, ['sh', '-c', 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done'], 30);
    const stats = await waitFor('container stats with usage', async () => {
      const s = await env.cri.containerStats(cid);
      return s.cpu?.usage_core_nano_seconds && BigInt(s.cpu.usage_core_nano_seconds.value) > 0n && s.memory?.working_set_bytes ? s : undefined;
    }, 15_000, 500);
    assert.equal(stats.attributes?.id, cid);
    assert.equal(stats.attributes?.metadata?.name, 'limited');
    assert.ok(BigInt(stats.memory?.working_set_bytes?.value ?? 0) > 0n, 'working set > 0');
  });
}

/** Processes in the pod's cgroup (below env.cgroupParent/pod<uid>), in any v1 hierarchy or v2. */
export function cgroupProcs(env: CriEnv, pod: TestPod): number[] {
  const rel = cgroupParentRel(String(pod.config.linux?.cgroup_parent ?? ''));
  const pids = new Set<number>();
  for (const base of ['/sys/fs/cgroup/pids', '/sys/fs/cgroup/memory', '/sys/fs/cgroup/unified', '/sys/fs/cgroup']) {
    const dir = join(base, rel);
    if (existsSync(dir)) for (const p of pidsBelow(dir)) pids.add(p);
  }
  void env;
  return [...pids];
}

/** Cgroup directories left below the pod's cgroup parent, in every hierarchy (kubelet removes the pod cgroup itself). */
export function cgroupChildren(pod: TestPod): string[] {
  const rel = cgroupParentRel(String(pod.config.linux?.cgroup_parent ?? ''));
  const out: string[] = [];
  const roots = readFileSync('/proc/self/mountinfo', 'utf8').split('\n')
    .filter((l) => / - cgroup2? /.test(l)).map((l) => l.split(' ')[4] ?? '');
  for (const base of roots) {
    const dir = join(base, rel);
    try { for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) out.push(join(dir, e.name)); } catch { /* none */ }
  }
  return out;
}

function mountsContaining(id: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(id));
}

function findTaskDirs(stateDir: string, id: string): string[] {
  const out: string[] = [];
  for (const rt of ['io.containerd.runtime.v2.task']) {
    const base = join(stateDir, rt);
    if (!existsSync(base)) continue;
    for (const ns of readdirSync(base)) if (existsSync(join(base, ns, id))) out.push(join(base, ns, id));
  }
  return out;
}

/** The flows every runtime handler must pass (name → flow), in a sensible order. */
export const referenceFlows: Record<string, Flow> = {
  'sandbox lifecycle leaves nothing behind': flowSandboxLifecycle,
  'ExecSync id is root, exit codes': flowExecSyncId,
  'streaming exec with and without tty': flowStreamingExec,
  'attach': flowAttach,
  'logs in the CRI log file, exit codes 0 and 3': flowLogsAndExitCodes,
  'StopContainer timeout on a SIGTERM-ignoring process gives 137': flowStopTimeout,
  'resources, UpdateContainerResources and ContainerStats': flowResourcesAndStats,
};

export { sleep };
