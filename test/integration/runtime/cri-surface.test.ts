// The rest of kubelet's CRI surface for a running pod, under the runc and the vnode
// handler of one containerd, on every containerd version here: ExecSync with a timeout
// (exec probes), exec into a container that is exiting, ReopenContainerLog (log
// rotation), the termination message file, and restarts with the attempt counter.
// UpdateContainerResources while running is in the reference flows (flows.ts).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { after, before, describe, it } from 'node:test';
import { availableContainerdVersions, startContainerd, type ContainerdInstance } from '../../support/containerd.js';
import { containerConfig, CriError, criEnv, logLines, parseCriLog, waitFor, withPod } from '../../support/cri.js';

const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions().filter((v) => v !== '1.6')) as ReturnType<typeof availableContainerdVersions>;
const HANDLERS = ['runc', 'vnode'] as const;

/**
 * ReopenContainerLog (kubelet's log rotation). The generated CRI client (src/k8s/cri/gen)
 * has no such method; its request is { string container_id = 1 } and its reply empty.
 */
function reopenContainerLog(address: string, containerId: string): Promise<void> {
  const client = new grpc.Client(`unix://${address}`, grpc.credentials.createInsecure());
  const id = Buffer.from(containerId, 'utf8');
  return new Promise<void>((resolve, reject) => {
    client.makeUnaryRequest(
      '/runtime.v1.RuntimeService/ReopenContainerLog',
      () => Buffer.concat([Buffer.from([0x0a, id.length]), id]),
      (b: Buffer) => b,
      {},
      new grpc.Metadata(),
      { deadline: Date.now() + 15_000 },
      (err) => {
        client.close();
        if (err) reject(new Error(`ReopenContainerLog: ${err.details || err.message}`));
        else resolve();
      },
    );
  });
}

for (const version of versions) {
  describe(`kubelet's CRI surface on containerd ${version}`, () => {
    let ctd: ContainerdInstance;
    before(async () => {
      ctd = await startContainerd({ version });
    });
    after(async () => {
      await ctd?.stop();
    });

    it('ExecSync with a timeout fails at the timeout and the exec process is gone', async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        await withPod(env, { namespace: 'probe' }, async (pod) => {
          const cid = await pod.runContainer({ name: 'p', command: ['sleep', '3600'] });
          await pod.waitForState(cid, 'CONTAINER_RUNNING');
          const t0 = Date.now();
          const err = await env.cri.execSync(cid, ['sleep', '4321'], 1).then(() => undefined, (e: unknown) => e);
          const elapsed = Date.now() - t0;
          assert.ok(err instanceof CriError, `${env.label}: a timed-out probe is an error, got ${String(err)}`);
          assert.match(err.details, /timeout|deadline/i, `${env.label}: ${err.details}`);
          assert.ok(elapsed >= 900 && elapsed < 10_000, `${env.label}: returned after ${elapsed} ms`);
          await waitFor(`${env.label}: the timed-out exec is killed`, async () => {
            const r = await env.cri.execSync(cid, ['ps', '-o', 'args'], 10);
            return !r.stdout.toString().includes('sleep 4321');
          }, 10_000, 200);
          // a probe that finishes in time still works
          const ok = await env.cri.execSync(cid, ['sh', '-c', 'echo fine'], 5);
          assert.equal(ok.stdout.toString(), 'fine\n');
        });
      }
    });

    it('exec into a container that is exiting: each exec succeeds or fails promptly, and the container exits with its own code', async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        await withPod(env, { namespace: 'exiting' }, async (pod) => {
          const cid = await pod.runContainer({ name: 'e', command: ['sh', '-c', 'sleep 1; exit 6'] });
          await pod.waitForState(cid, 'CONTAINER_RUNNING');
          let ok = 0;
          let failed = '';
          const deadline = Date.now() + 15_000;
          while (Date.now() < deadline) {
            const t0 = Date.now();
            const r = await env.cri.execSync(cid, ['true'], 5).then((x) => x, (e: unknown) => e as Error);
            assert.ok(Date.now() - t0 < 6_000, `${env.label}: an exec hung for ${Date.now() - t0} ms`);
            if (r instanceof Error) {
              failed = (r as CriError).details ?? r.message;
              break;
            }
            if (r.exit_code === 0) ok++;
          }
          assert.ok(ok > 0, `${env.label}: no exec succeeded while it ran`);
          // runc's own races show through under either handler ("read init-p: connection
          // reset by peer", "write init-p: broken pipe"), as do containerd's state checks
          // (and under runc on 2.x, whose shim goes with its last process, "ttrpc: closed")
          const expected = handler === 'runc' ? /not running|exited|stopped|CONTAINER_EXITED|not found|exec failed|ttrpc: closed/i : /not running|exited|stopped|CONTAINER_EXITED|not found|exec failed/i;
          assert.match(failed, expected, `${env.label}: ${failed}`);
          const st = await pod.waitForExit(cid);
          assert.equal(st.exit_code, 6, env.label);
        });
      }
    });

    it('ReopenContainerLog: after the log is rotated, lines go to the new file', async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        await withPod(env, { namespace: 'rotate' }, async (pod) => {
          const cid = await pod.runContainer({ name: 'r', command: ['sh', '-c', 'i=0; while :; do i=$((i+1)); echo "line $i"; sleep 0.1; done'] });
          const path = pod.logPath('r');
          await waitFor(`${env.label}: first lines`, () => logLines(pod.readLog('r'), 'stdout').length >= 3, 10_000);
          renameSync(path, `${path}.1`);
          await reopenContainerLog(ctd.address, cid);
          await waitFor(`${env.label}: lines in the new file`, () => existsSync(path) && logLines(parseCriLog(readFileSync(path, 'utf8')), 'stdout').length >= 3, 10_000);
          const before = logLines(parseCriLog(readFileSync(`${path}.1`, 'utf8')), 'stdout');
          const after = logLines(parseCriLog(readFileSync(path, 'utf8')), 'stdout');
          const n = (l: string) => Number(l.split(' ')[1]);
          assert.ok(n(after[0]!) > n(before.at(-1)!) - 1, `${env.label}: the new file continues the old one (${before.at(-1)} → ${after[0]})`);
        });
      }
    });

    it('termination message file: what the container writes to terminationMessagePath reaches the host file kubelet reads', async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        const uid = `term-${handler}-${process.pid}-${Date.now()}`;
        const file = join('/var/lib/kubelet/pods', uid, 'containers', 't', 'abcd1234');
        mkdirSync(join(file, '..'), { recursive: true });
        // what kubelet makes: an empty file, mode 0666 (its umask aside)
        writeFileSync(file, '');
        chmodSync(file, 0o666);
        try {
          await withPod(env, { namespace: 'term', uid }, async (pod) => {
            const cid = await pod.runContainer({ name: 't', command: ['sh', '-c', 'echo "it broke: $(id -u)" > /dev/termination-log; echo last-log-line; exit 2'], runAsUser: 1000, mounts: [{ container_path: '/dev/termination-log', host_path: file } as never] });
            const st = await pod.waitForExit(cid);
            assert.equal(st.exit_code, 2);
            assert.equal(readFileSync(file, 'utf8'), 'it broke: 1000\n', env.label);
            // FallbackToLogsOnError: kubelet then reads the log's tail, which is there
            assert.deepEqual(logLines(pod.readLog('t'), 'stdout'), ['last-log-line']);
          });
        } finally {
          rmSync(join('/var/lib/kubelet/pods', uid), { recursive: true, force: true });
        }
      }
    });

    it('a restarted container (attempt 1) runs beside its exited attempt 0, with its own log', async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        await withPod(env, { namespace: 'restart' }, async (pod) => {
          const first = await pod.runContainer({ name: 'c', command: ['sh', '-c', 'echo attempt-0; exit 1'] });
          assert.equal((await pod.waitForExit(first)).exit_code, 1);
          const cfg = containerConfig(env, pod.config, { name: 'c', command: ['sh', '-c', 'echo attempt-1; sleep 3600'] }, pod.spec);
          cfg.metadata!.attempt = 1;
          cfg.log_path = 'c/1.log';
          cfg.annotations = { ...cfg.annotations, 'io.kubernetes.container.restartCount': '1' };
          // the same name and attempt again is refused, as kubelet relies on
          const again = await env.cri.createContainer(pod.id, { ...cfg, metadata: { name: 'c', attempt: 0 } }, pod.config).then(() => '', (e: CriError) => e.details);
          assert.match(again, /reserved|already|exists/i, `${env.label}: ${again}`);
          const second = await env.cri.createContainer(pod.id, cfg, pod.config);
          await env.cri.startContainer(second);
          const st = await pod.waitForState(second, 'CONTAINER_RUNNING');
          assert.equal(st.metadata?.attempt, 1);
          const listed = await env.cri.listContainers({ pod_sandbox_id: pod.id });
          assert.deepEqual(listed.map((c) => c.metadata?.attempt).sort(), [0, 1]);
          const log1 = join(String(pod.config.log_directory), 'c/1.log');
          await waitFor(`${env.label}: attempt 1 log`, () => existsSync(log1) && logLines(parseCriLog(readFileSync(log1, 'utf8')), 'stdout').includes('attempt-1'), 10_000);
          assert.deepEqual(logLines(pod.readLog('c'), 'stdout'), ['attempt-0']);
          await env.cri.removeContainer(first);
          assert.equal((await pod.status(second)).state, 'CONTAINER_RUNNING');
        });
      }
    });
  });
}
