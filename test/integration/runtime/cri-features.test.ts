// Runtime features through CRI: what CRI Status lists for the runc and the vnode handler
// of one containerd, and recursive read-only mounts (recursiveReadOnly: Enabled) with the
// refusals CRI specifies. containerd 2.1–2.3 introspect only handlers whose runtime_type
// is io.containerd.runc.v2 (2.4 drops that check), so on 2.x the vnode handler is
// declared that way, with runtime_path naming the vnode shim, by the harness as by vnode
// install (docs/runtime.md). On 1.7
// CRI has neither runtime handler features nor recursive read-only mounts.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parse } from 'smol-toml';
import { availableContainerdVersions, startContainerd, type ContainerdInstance } from '../../support/containerd.js';
import { CriError, criEnv, withPod, type CriEnv } from '../../support/cri.js';
import { repoBinDir } from '../../support/paths.js';

const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions().filter((v) => v !== '1.6')) as ReturnType<typeof availableContainerdVersions>;
const HANDLERS = ['runc', 'vnode'] as const;

/** The vnode handler as containerd 2.1–2.3 introspect it (features.ts). */
const VNODE_AS_RUNC_TYPE = { runtime_type: 'io.containerd.runc.v2', runtime_path: join(repoBinDir, 'containerd-shim-vnode-v2') };

/** The vnode handler's type and path in the config the harness wrote. */
function runtimeTableOf(ctd: ContainerdInstance): { runtime_type: unknown; runtime_path: unknown } {
  const c = parse(readFileSync(ctd.configPath, 'utf8')) as Record<string, any>;
  const t = c['plugins']['io.containerd.cri.v1.runtime']['containerd']['runtimes']['vnode'];
  return { runtime_type: t.runtime_type, runtime_path: t.runtime_path };
}

async function sh(env: CriEnv, cid: string, script: string): Promise<{ code: number; out: string }> {
  const r = await env.cri.execSync(cid, ['sh', '-c', script], 15);
  return { code: r.exit_code, out: r.stdout.toString() + r.stderr.toString() };
}

async function createError(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof CriError) return e.details;
    throw e;
  }
  return '';
}

for (const version of versions) {
  describe(`runtime features on containerd ${version}`, () => {
    let ctd: ContainerdInstance;
    const uid = `rro-${process.pid}-${Date.now()}`;
    const podDir = join('/var/lib/kubelet/pods', uid);
    const vol = join(podDir, 'volumes/kubernetes.io~empty-dir/data');
    const shared = join(podDir, 'volumes/kubernetes.io~empty-dir/shared');
    before(async () => {
      ctd = await startContainerd({ version });
      if (version === '2') assert.deepEqual(runtimeTableOf(ctd), VNODE_AS_RUNC_TYPE, 'the harness declares the vnode handler as vnode install does');
      // a volume with a mount below it, and one on a shared mount (for the propagation refusal)
      mkdirSync(join(vol, 'sub'), { recursive: true });
      mkdirSync(shared, { recursive: true });
      writeFileSync(join(vol, 'top-file'), 'top\n');
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'vnode-test-rro', join(vol, 'sub')]);
      execFileSync('mount', ['--bind', shared, shared]);
      execFileSync('mount', ['--make-shared', shared]);
    });
    after(async () => {
      await ctd?.stop();
      for (const m of [join(vol, 'sub'), shared]) spawnUmount(m);
      rmSync(podDir, { recursive: true, force: true });
    });

    it('CRI Status lists each handler with the features its runtime declares', async () => {
      const st = await ctd.cri.status();
      const byName = new Map((st.runtime_handlers ?? []).map((h) => [h.name, h.features]));
      if (version === '1.7') {
        assert.deepEqual(st.runtime_handlers ?? [], [], 'containerd 1.7 reports no runtime handlers');
        return;
      }
      // bookworm's runc 1.1.5: "rro" in `runc features`, but no ID-mapped mounts
      assert.deepEqual(byName.get('runc'), { recursive_read_only_mounts: true, user_namespaces: false });
      assert.deepEqual(byName.get('vnode'), { recursive_read_only_mounts: true, user_namespaces: true });
    });

    it('recursiveReadOnly makes a volume and the mounts below it read-only; plain readOnly only its top; bad combinations are refused', async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        await withPod(env, { namespace: 'rro', uid }, async (pod) => {
          const plain = await pod.runContainer({ name: 'plain', command: ['sleep', '3600'], mounts: [{ container_path: '/data', host_path: vol, readonly: true } as never] });
          await pod.waitForState(plain, 'CONTAINER_RUNNING');
          const p = await sh(env, plain, 'cat /data/top-file; touch /data/x 2>&1; touch /data/sub/plain-$$ && echo sub-writable');
          assert.match(p.out, /^top\n/, `${env.label}: ${p.out}`);
          assert.match(p.out, /Read-only file system/, `${env.label}: readOnly top: ${p.out}`);
          assert.match(p.out, /sub-writable/, `${env.label}: a plain readOnly mount leaves the mounts below it writable: ${p.out}`);

          const rroMount = { container_path: '/data', host_path: vol, readonly: true, recursive_read_only: true, propagation: 'PROPAGATION_PRIVATE' };
          if (version === '1.7') {
            // 1.7's CRI does not know the field: a plain read-only mount, as under runc
            const c = await pod.runContainer({ name: 'rro', command: ['sleep', '3600'], mounts: [rroMount as never] });
            await pod.waitForState(c, 'CONTAINER_RUNNING');
            assert.match((await sh(env, c, 'touch /data/sub/y && echo sub-writable')).out, /sub-writable/, env.label);
            return;
          }
          // runc's own rro (1.1+) under the runc handler, vnode's hook under vnode
          const c = await pod.runContainer({ name: 'rro', command: ['sleep', '3600'], mounts: [rroMount as never] });
          await pod.waitForState(c, 'CONTAINER_RUNNING');
          const r = await sh(env, c, 'cat /data/top-file; touch /data/x 2>&1; touch /data/sub/y 2>&1; grep " /data" /proc/self/mountinfo');
          assert.match(r.out, /^top\n/, r.out);
          assert.equal((r.out.match(/Read-only file system/g) ?? []).length, 2, `${env.label}: top and submount read-only: ${r.out}`);
          for (const line of r.out.split('\n').filter((l) => / \/data(\/sub)? /.test(l))) assert.match(line, / ro[, ]/, `${env.label}: ${line}`);
          // refusals CRI specifies (before any runtime runs)
          const rw = await createError(pod.createContainer({ name: 'rro-rw', command: ['true'], mounts: [{ ...rroMount, readonly: false } as never] }));
          assert.match(rw, /recursive read-only mount conflicts with RW mount/, `${env.label}: ${rw}`);
          const prop = await createError(pod.createContainer({ name: 'rro-prop', command: ['true'], mounts: [{ ...rroMount, host_path: shared, propagation: 'PROPAGATION_HOST_TO_CONTAINER' } as never] }));
          assert.match(prop, /recursive read-only mount needs private propagation/, `${env.label}: ${prop}`);
        });
      }
    });

    it('image volumes (containerd 2.1+): an image\'s files, read-only, owned by root inside; 1.7 does not know the field', async () => {
      const outcomes = new Map<string, string>();
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        const outcome = await withPod(env, { namespace: 'imgvol', uid: `${uid}-img` }, async (pod) => {
          const c = await pod.runContainer({
            name: 'iv',
            command: ['sleep', '3600'],
            mounts: [
              { container_path: '/img', image: { image: env.images.busybox }, readonly: true },
              { container_path: '/imgbin', image: { image: env.images.busybox }, image_sub_path: 'bin', readonly: true },
            ] as never,
          });
          await pod.waitForState(c, 'CONTAINER_RUNNING');
          const r = await sh(env, c, 'stat -c %u:%g /img/bin/busybox; /img/bin/busybox echo ran from the image volume; touch /img/x 2>&1; grep " /img " /proc/self/mounts | cut -d" " -f4 | cut -d, -f1; ls /imgbin | grep -c "^busybox$"');
          return r.out;
        }).catch((e: Error) => `failed: ${e.message}`);
        console.log(`${env.label} image volume: ${JSON.stringify(outcome)}`);
        if (version === '1.7') {
          assert.match(outcome, /^failed: /, `${env.label}: ${outcome}`);
        } else {
          // image_sub_path: 2.1 mounts the whole image (`bin` then has no busybox at its top); whatever this containerd does, vnode does the same as runc
          assert.match(outcome, /^0:0\nran from the image volume\ntouch: \/img\/x: Read-only file system\nro\n[01]\n$/, `${env.label}: ${outcome}`);
          outcomes.set(handler, outcome);
        }
        // the layer clones went with the pod
        assert.doesNotMatch(readFileSync('/proc/self/mountinfo', 'utf8'), /\.layers\/l\d /, `${env.label}: an image volume's layer clone is still mounted`);
      }
      if (version !== '1.7') assert.equal(outcomes.get('vnode'), outcomes.get('runc'));
    });

    it('hostUsers: false: the pod runs in its vNode, in the vNode\'s ID range instead of the one asked for (1.7: the image chowned to that range is mapped into the vNode\'s); runc 1.1.5 cannot run it', async () => {
      const asked = { hostId: 65536 * 200, length: 65536 };
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        const outcome = await withPod(env, { namespace: 'userns', uid, userns: asked }, async (pod) => {
          // kubelet gives each volume of such a pod the pod's mappings, for an ID-mapped mount;
          // containerd 1.7's CRI refuses those itself, whatever the runtime
          const idmap = [{ container_id: 0, host_id: asked.hostId, length: asked.length }];
          const data = { container_path: '/data', host_path: vol, readonly: true };
          const mapped = { ...data, uidMappings: idmap, gidMappings: idmap };
          if (version === '1.7') {
            const refused = await createError(pod.createContainer({ name: 'u-mapped', command: ['true'], mounts: [mapped as never] }));
            assert.match(refused, /idmap mounts not yet supported, but they were requested for: "[^"]*empty-dir\/data"/, `${env.label}: ${refused}`);
          }
          const c = await pod.runContainer({ name: 'u', command: ['sleep', '3600'], mounts: [(version === '1.7' ? data : mapped) as never] });
          await pod.waitForState(c, 'CONTAINER_RUNNING');
          const r = await sh(env, c, 'cat /proc/self/uid_map; id -u; stat -c %u:%g /etc/passwd /data/top-file; cat /data/top-file');
          assert.equal(r.code, 0, `${env.label}: ${r.out}`);
          if (handler === 'vnode') {
            // the rootfs is writable by the container's root, and what it writes lands in the vNode's range
            const w = await sh(env, c, 'echo x > /etc/written && stat -c %u:%g /etc/written');
            assert.equal(w.out.trim(), '0:0', `${env.label}: ${w.out}`);
          }
          return r.out;
        }).catch((e: Error) => `failed: ${e.message}`);
        console.log(`${env.label} hostUsers=false: ${JSON.stringify(outcome)}`);
        if (handler === 'runc') {
          // runc 1.1.5 has no ID-mapped mounts (CRI lists no user namespaces for it; kubelet would not send the pod)
          assert.match(outcome, /^failed: .*permission denied/, `${env.label}: ${outcome}`);
        } else {
          const [inside, outside, size] = outcome.trim().split('\n')[0]!.trim().split(/\s+/).map(Number);
          assert.equal(inside, 0, outcome);
          assert.notEqual(outside, asked.hostId, `${env.label}: the vNode's range, not the one asked for: ${outcome}`);
          assert.ok(outside! >= 65536, outcome);
          assert.equal(size, 65536);
          assert.match(outcome, /\n0\n0:0\n0:0\ntop\n$/, `${env.label}: root inside, files of host root are the vNode root's: ${outcome}`);
        }
      }
    });
  });
}

function spawnUmount(target: string): void {
  try {
    execFileSync('umount', ['-l', target], { stdio: 'ignore' });
  } catch {
    /* not mounted */
  }
}
