// The three CRI PID namespace modes, CONTAINER (the default), POD (shareProcessNamespace)
// and NODE (hostPID), under the runc and the vnode handler of one containerd, on every
// containerd version here: an nginx-like server keeps running, exec (sync, streaming,
// tty), attach, logs, signals and exit codes work, and each process sees exactly the
// processes it should. NODE under vnode is the vNode's PID namespace (its init is PID 1,
// no host process), by design (docs/runtime.md, Differences from runc).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { openStream, runStream } from '../../../src/k8s/cri/index.js';
import { availableContainerdVersions, startContainerd, type ContainerdInstance } from '../../support/containerd.js';
import { containerConfig, criEnv, logLines, waitFor, withPod, type CriEnv, type PodSpec } from '../../support/cri.js';
import { importImage, weblogImage } from '../../support/images.js';

const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions().filter((v) => v !== '1.6')) as ReturnType<typeof availableContainerdVersions>;
const HANDLERS = ['runc', 'vnode'] as const;
/** CRI NamespaceMode TARGET: the PID namespace of the container named by target_id. */
const TARGET = 3;
const MODES: { mode: 'CONTAINER' | 'POD' | 'NODE'; pod: PodSpec }[] = [
  { mode: 'CONTAINER', pod: {} },
  { mode: 'POD', pod: { sharePid: true } },
  { mode: 'NODE', pod: { hostPID: true } },
];

async function ps(env: CriEnv, cid: string): Promise<string> {
  const r = await env.cri.execSync(cid, ['ps', '-o', 'pid,args'], 15);
  assert.equal(r.exit_code, 0, `${env.label}: ps in ${cid}: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

for (const version of versions) {
  describe(`PID namespace modes on containerd ${version}`, () => {
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

    it('TARGET (kubectl debug): an ephemeral container joins another container\'s PID namespace and sees its processes', async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        await withPod(env, { namespace: 'pid-target' }, async (pod) => {
          const web = await pod.runContainer({ name: 'web', image: weblog });
          const other = await pod.runContainer({ name: 'other', command: ['sleep', '3600'] });
          await pod.waitForState(web, 'CONTAINER_RUNNING');
          await pod.waitForState(other, 'CONTAINER_RUNNING');
          const cfg = containerConfig(env, pod.config, { name: 'debugger', command: ['sleep', '3600'] }, pod.spec);
          cfg.linux!.security_context!.namespace_options = { ...cfg.linux!.security_context!.namespace_options!, pid: TARGET, target_id: web };
          const dbg = await env.cri.createContainer(pod.id, cfg, pod.config);
          await env.cri.startContainer(dbg);
          await pod.waitForState(dbg, 'CONTAINER_RUNNING');
          const seen = await ps(env, dbg);
          assert.match(seen, /^\s*1\s+.*\/usr\/sbin\/weblog$/m, `${env.label}: the target's init is PID 1: ${seen}`);
          assert.match(seen, /httpd -f/, seen);
          assert.match(seen, /sleep 3600/, `${env.label}: its own process: ${seen}`);
          assert.equal((seen.match(/sleep 3600/g) ?? []).length, 1, `${env.label}: not the other container's: ${seen}`);
          // and the target sees the debugger
          assert.match(await ps(env, web), /sleep 3600/, env.label);
        });
      }
    });

    for (const { mode, pod: podSpec } of MODES) {
      it(`${mode}: server runs; exec, tty exec, attach, logs, signals, exit codes; sees what it should`, async () => {
        for (const handler of HANDLERS) {
          const env = criEnv(ctd, handler);
          const label = `${env.label} ${mode}`;
          await withPod(env, { namespace: `pid-${mode.toLowerCase()}`, ...podSpec }, async (pod) => {
            const web = await pod.runContainer({ name: 'web', image: weblog });
            const side = await pod.runContainer({ name: 'side', command: ['sh', '-c', 'trap "exit 42" TERM; while :; do echo side-tick; sleep 0.3; done'] });
            const sleeper = await pod.runContainer({ name: 'sleeper', command: ['sleep', '3600'] });
            const three = await pod.runContainer({ name: 'three', command: ['sh', '-c', 'echo bye; exit 3'] });
            await waitFor(`${label}: web serves`, () => logLines(pod.readLog('web'), 'stdout').filter((l) => l.startsWith('GET /index.html 200')).length >= 2, 20_000);
            for (const cid of [web, side, sleeper]) assert.equal((await pod.status(cid)).state, 'CONTAINER_RUNNING', `${label}: running`);

            // what each sees
            const seen = await ps(env, web);
            assert.match(seen, /\/usr\/sbin\/weblog/, `${label}: ${seen}`);
            assert.match(seen, /httpd -f/, `${label}: ${seen}`);
            if (mode === 'CONTAINER') {
              assert.match(seen, /^\s*1\s+.*\/usr\/sbin\/weblog$/m, `${label}: its own init is PID 1: ${seen}`);
              assert.doesNotMatch(seen, /side-tick|sleep 3600|catatonit/, `${label}: nothing of the other containers: ${seen}`);
            } else {
              assert.match(seen, /side-tick/, `${label}: the other containers: ${seen}`);
              assert.match(seen, /sleep 3600/, `${label}: ${seen}`);
            }
            if (mode === 'POD') {
              assert.match(seen, /^\s*1\s+\/catatonit -P$/m, `${label}: the pod's pause is PID 1: ${seen}`);
            }
            if (mode === 'NODE') {
              if (handler === 'runc') assert.match(seen, /containerd/, `${label}: the host's processes: ${seen}`);
              else {
                assert.doesNotMatch(seen, /containerd|vnode-manager|node /, `${label}: no host process: ${seen}`);
                assert.match(seen, /^\s*1\s+\S*vnode-init /m, `${label}: the vNode's init is PID 1: ${seen}`);
              }
            }

            // exec: sync with an exit code, streaming with a tty
            const ex = await env.cri.execSync(web, ['sh', '-c', 'echo out; echo err >&2; exit 9'], 15);
            assert.deepEqual([ex.exit_code, ex.stdout.toString(), ex.stderr.toString()], [9, 'out\n', 'err\n'], label);
            const t = await runStream(await env.cri.exec({ container_id: web, stdin: true, tty: true, stdout: true, cmd: ['sh', '-c', 'tty; exit 4'] }));
            assert.match(t.stdout.toString(), /^\/dev\/pts\/\d+\r\n/, `${label}: tty exec ${JSON.stringify(t.stdout.toString())}`);
            assert.equal(t.exitCode, 4, label);

            // attach: the running container's output
            let attached = '';
            const a = await openStream(await env.cri.attach({ container_id: side, stdout: true, stderr: true }), { onStdout: (c) => (attached += c.toString()) });
            await waitFor(`${label}: attached output`, () => attached.includes('side-tick\n'), 10_000);
            a.close();

            // signals: a trapped SIGTERM gives its exit code; an untrapped one kills a
            // process that is not its PID namespace's init (POD, NODE) with 143, and is
            // ignored by an init (CONTAINER), which StopContainer then kills: 137.
            await env.cri.stopContainer(side, 10);
            assert.equal((await pod.status(side)).exit_code, 42, `${label}: trapped SIGTERM`);
            await env.cri.stopContainer(sleeper, 2);
            assert.equal((await pod.status(sleeper)).exit_code, mode === 'CONTAINER' ? 137 : 143, `${label}: untrapped SIGTERM`);
            const st3 = await pod.waitForExit(three);
            assert.equal(st3.exit_code, 3, label);
            assert.deepEqual(logLines(pod.readLog('three'), 'stdout'), ['bye']);

            // exec still works after the others stopped
            assert.match(await ps(env, web), /weblog/, label);
          });
        }
      });
    }
  });
}
