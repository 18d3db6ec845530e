// stdio by name (/dev/stdout, /dev/stderr, /dev/stdin, /proc/self/fd/N) in container and
// exec processes, with and without a terminal, as root and as another user, under the
// runc and the vnode handler of one containerd, on every containerd version here. An
// nginx-like image that logs through /var/log/… → /dev/stdout links runs and its lines
// reach the CRI log. Host side: the vNode's FIFOs belong to its root (or the process's
// user) and stay closed to other vNodes' UIDs and the host's other users.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { linkSync, mkdtempSync, readlinkSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStream } from '../../../src/k8s/cri/index.js';
import { availableContainerdVersions, startContainerd, type ContainerdInstance } from '../../support/containerd.js';
import { criEnv, logLines, waitFor, withPod, type CriEnv, type TestPod } from '../../support/cri.js';
import { containerPid } from '../../support/flows.js';
import { importImage, weblogImage } from '../../support/images.js';
import { vnodeRecords } from '../../support/vnode-host.js';

const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions().filter((v) => v !== '1.6')) as ReturnType<typeof availableContainerdVersions>;
const HANDLERS = ['runc', 'vnode'] as const;
const WWW_DATA = 33;

/** Writes to every name of stdout and stderr; ends with `sleep` unless `then` says otherwise. */
const BY_NAME = 'echo n1 > /dev/stdout && echo n2 > /dev/stderr && echo n3 > /proc/self/fd/1 && echo n4 > /proc/self/fd/2';

async function mustExec(env: CriEnv, cid: string, cmd: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await env.cri.execSync(cid, cmd, 15);
  assert.equal(r.exit_code, 0, `${env.label}: ${cmd.join(' ')} exited ${r.exit_code}: ${r.stderr.toString()}`);
  return { stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const joined = (pod: TestPod, name: string, stream: 'stdout' | 'stderr') => logLines(pod.readLog(name), stream).map((l) => l.replace(/\r$/, ''));

for (const version of versions) {
  describe(`stdio by name on containerd ${version}`, () => {
    let ctd: ContainerdInstance;
    let weblog: string;
    before(async () => {
      ctd = await startContainerd({ version });
      const image = weblogImage();
      await importImage(ctd.ctr, image);
      weblog = image.ref;
    });
    after(async () => {
      await ctd?.stop();
    });

    it('an nginx-like image that logs through /var/log → /dev/stdout links runs, as root and as www-data, and its lines reach the CRI log', async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        await withPod(env, { namespace: 'weblog' }, async (pod) => {
          const root = await pod.runContainer({ name: 'root', image: weblog });
          // one network namespace: its own port
          const www = await pod.runContainer({ name: 'www', image: weblog, runAsUser: WWW_DATA, env: { PORT: '8081' } });
          for (const [name, uid] of [['root', 0], ['www', WWW_DATA]] as const) {
            await waitFor(`${env.label}: ${name} logs two requests`, () => joined(pod, name, 'stdout').filter((l) => l === 'GET /index.html 200 weblog-page').length >= 2, 20_000);
            assert.deepEqual(joined(pod, name, 'stderr'), [`weblog start uid=${uid}`], `${env.label}: ${name} stderr`);
          }
          for (const cid of [root, www]) assert.equal((await pod.status(cid)).state, 'CONTAINER_RUNNING', `${env.label}: the server keeps running`);
        });
      }
    });

    it('container processes open /dev/stdout, /dev/stderr and /proc/self/fd/{1,2} by name, without and with a tty, and read /dev/stdin', async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        await withPod(env, { namespace: 'stdio-ctr' }, async (pod) => {
          await pod.runContainer({ name: 'plain', command: ['sh', '-c', `${BY_NAME} && echo done-plain; sleep 3600`] });
          await pod.runContainer({ name: 'user', runAsUser: WWW_DATA, command: ['sh', '-c', `${BY_NAME} && echo done-user; sleep 3600`] });
          await pod.runContainer({ name: 'tty', tty: true, command: ['sh', '-c', `${BY_NAME} && echo done-tty; sleep 3600`] });
          const reader = await pod.createContainer({ name: 'reader', stdin: true, stdinOnce: true, command: ['sh', '-c', 'read a </dev/stdin; read b </proc/self/fd/0; echo "got:$a,$b" >/dev/stdout; sleep 3600'] });
          await env.cri.startContainer(reader);
          await pod.waitForState(reader, 'CONTAINER_RUNNING');
          const s = await openStream(await env.cri.attach({ container_id: reader, stdin: true, stdout: true, stderr: true }));
          s.write('one\ntwo\n');
          await waitFor(`${env.label}: reader got stdin`, () => joined(pod, 'reader', 'stdout').includes('got:one,two'), 15_000);
          s.close();
          for (const name of ['plain', 'user']) {
            await waitFor(`${env.label}: ${name} done`, () => joined(pod, name, 'stdout').includes(`done-${name}`), 15_000);
            assert.deepEqual(joined(pod, name, 'stdout'), ['n1', 'n3', `done-${name}`], `${env.label}: ${name} stdout`);
            assert.deepEqual(joined(pod, name, 'stderr'), ['n2', 'n4'], `${env.label}: ${name} stderr`);
          }
          // a terminal has one stream: everything is stdout
          await waitFor(`${env.label}: tty done`, () => joined(pod, 'tty', 'stdout').includes('done-tty'), 15_000);
          assert.deepEqual(joined(pod, 'tty', 'stdout'), ['n1', 'n2', 'n3', 'n4', 'done-tty'], `${env.label}: tty log`);
        });
      }
    });

    it('exec processes open their stdio by name: ExecSync, streaming exec with stdin, with a tty, as a non-root user', async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        await withPod(env, { namespace: 'stdio-exec' }, async (pod) => {
          const root = await pod.runContainer({ name: 'root', command: ['sleep', '3600'] });
          const user = await pod.runContainer({ name: 'user', runAsUser: WWW_DATA, command: ['sleep', '3600'] });
          for (const cid of [root, user]) {
            await pod.waitForState(cid, 'CONTAINER_RUNNING');
            const r = await mustExec(env, cid, ['sh', '-c', BY_NAME]);
            assert.equal(r.stdout, 'n1\nn3\n', `${env.label}: ExecSync stdout`);
            assert.equal(r.stderr, 'n2\nn4\n', `${env.label}: ExecSync stderr`);

            const s = await openStream(await env.cri.exec({ container_id: cid, stdin: true, stdout: true, stderr: true, cmd: ['sh', '-c', `read a </dev/stdin; read b </proc/self/fd/0; echo "got:$a,$b" >/dev/stdout; ${BY_NAME}`] }));
            s.write('one\ntwo\n');
            const sr = await s.done;
            assert.equal(sr.stdout.toString(), 'got:one,two\nn1\nn3\n', `${env.label}: streaming exec stdout`);
            assert.equal(sr.stderr.toString(), 'n2\nn4\n');
            assert.equal(sr.exitCode, 0);

            let seen = '';
            const t = await openStream(await env.cri.exec({ container_id: cid, stdin: true, tty: true, stdout: true, cmd: ['sh', '-c', `stty -echo; echo ready; read a </dev/stdin; echo "got:$a" >/dev/stdout; ${BY_NAME}`] }), { onStdout: (c) => (seen += c.toString()) });
            // typed once the terminal no longer echoes
            await waitFor(`${env.label}: tty exec ready`, () => seen.includes('ready'), 15_000);
            t.write('tty-in\r');
            const tr = await t.done;
            const out = tr.stdout.toString();
            assert.match(out, /got:tty-in\r\nn1\r\nn2\r\nn3\r\nn4\r\n$/, `${env.label}: tty exec output ${JSON.stringify(out)}`);
            assert.equal(tr.exitCode, 0);
          }
        });
      }
    });

    it("the sandbox's stdio is /dev/null; a vNode's FIFOs belong to its root or the process's user and stay closed to other UIDs", async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        await withPod(env, { namespace: 'stdio-host' }, async (pod) => {
          const verbose = await env.cri.podSandboxStatus(pod.id, true);
          const sandboxPid = (JSON.parse(verbose.info['info'] ?? '{}') as { pid?: number }).pid!;
          assert.ok(sandboxPid > 0);
          for (const fd of [0, 1, 2]) assert.equal(readlinkSync(`/proc/${sandboxPid}/fd/${fd}`), '/dev/null', `${env.label}: sandbox fd ${fd}`);
          if (handler !== 'vnode') return;
          const root = await pod.runContainer({ name: 'root', command: ['sleep', '3600'] });
          const user = await pod.runContainer({ name: 'user', runAsUser: WWW_DATA, command: ['sleep', '3600'] });
          for (const cid of [root, user]) await pod.waitForState(cid, 'CONTAINER_RUNNING');
          const base = vnodeRecords(ctd).find((r) => r.key === 'ns/stdio-host')!.range.start;
          const other = base + 65536 * 7; // a UID of no vNode here: what another vNode's processes would be
          // beside the instance dir: the same filesystem as containerd's FIFOs, and reachable by every UID
          const probeDir = mkdtempSync(join(dirname(ctd.dir), 'vnode-fifo-probe-'));
          try {
            execFileSync('chmod', ['0755', probeDir]);
            for (const [cid, uid] of [[root, 0], [user, WWW_DATA]] as const) {
              const pid = await containerPid(env, cid);
              const fifo = readlinkSync(`/proc/${pid}/fd/1`);
              const st = statSync(fifo);
              assert.ok(st.isFIFO(), `${fifo} is containerd's FIFO`);
              assert.deepEqual([st.uid, st.gid, st.mode & 0o777], [base + uid, base, 0o700], `${env.label}: owner and mode of ${fifo}`);
              // The FIFO by a path any UID can reach: its mode is what keeps others out.
              const probe = join(probeDir, `stdout-${uid}`);
              linkSync(fifo, probe);
              const writeAs = (as: number) => spawnSync('setpriv', [`--reuid=${as}`, `--regid=${as}`, '--clear-groups', '--', 'sh', '-c', `echo from-${as} > ${probe}`], { encoding: 'utf8', timeout: 10_000 });
              for (const as of [other, 65534]) {
                const r = writeAs(as);
                assert.notEqual(r.status, 0, `host uid ${as} opened ${fifo}`);
                assert.match(r.stderr, /Permission denied/);
              }
              assert.equal(writeAs(base + uid).status, 0, 'its owner can');
              await waitFor('the owner line in the log', () => joined(pod, uid === 0 ? 'root' : 'user', 'stdout').includes(`from-${base + uid}`), 10_000);
            }
          } finally {
            rmSync(probeDir, { recursive: true, force: true });
          }
        });
      }
    });
  });
}
