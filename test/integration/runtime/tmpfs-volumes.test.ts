// kubelet's tmpfs volumes through CRI, laid out as kubelet lays them out: a secret with
// defaultMode 0400, a projected service-account token, emptyDir medium Memory, and the
// pod's /dev/shm shared by two containers. Once with ID-mapped tmpfs where the kernel has
// it (≥ 6.3) and once with VNODE_TMPFS_IDMAP=off, the path a 6.1 kernel takes (mirrors of
// the atomic-writer volumes, chowned binds of the writable ones; docs/kernel-6.1.md).
// In both, root in the pod reads the 0400 token, a `..data` swap is seen (also after a
// manager restart), and nothing is left mounted once the pod is gone.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { availableContainerdVersions } from '../../support/containerd.js';
import { waitFor, withPod, type CriEnv } from '../../support/cri.js';
import { instanceDir, managerPid, mountsBelow, vnodeRecords, vnodeSuite } from '../../support/vnode-host.js';
import { isAlive } from '../../../src/sys/index.js';

const version = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',')[0] ?? (availableContainerdVersions().includes('2') ? '2' : '1.7')) as '2' | '1.7';
const SLEEP = ['sleep', '3600'];
const [major = 0, minor = 0] = release().split('.').map(Number);
const kernelIdmapsTmpfs = major > 6 || (major === 6 && minor >= 3);

async function exec(env: CriEnv, cid: string, cmd: string[]): Promise<string> {
  const r = await env.cri.execSync(cid, cmd, 15);
  assert.equal(r.exit_code, 0, `${cmd.join(' ')} failed: ${r.stderr.toString()}`);
  return r.stdout.toString();
}

async function fails(env: CriEnv, cid: string, cmd: string[]): Promise<boolean> {
  return (await env.cri.execSync(cid, cmd, 15)).exit_code !== 0;
}

/** The manager's mirror tmpfs mounts anywhere on the host. */
function mirrorMounts(): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => / - tmpfs vnode-mirror /.test(l));
}

let stamp = 0;
/** One atomic-writer update as kubelet's does it: a new timestamped dir, `..data` renamed over, key links, old dir removed. */
function writeAtomic(vol: string, files: Record<string, { text: string; mode: number }>): string {
  const ts = `..2026_12_02_20_00_${String(stamp++).padStart(2, '0')}.${process.pid}`;
  mkdirSync(join(vol, ts));
  for (const [k, f] of Object.entries(files)) {
    writeFileSync(join(vol, ts, k), f.text);
    chmodSync(join(vol, ts, k), f.mode);
    chownSync(join(vol, ts, k), 0, 0);
  }
  const old = existsSync(join(vol, '..data')) ? readFileSync(join(vol, '..data', '..name'), 'utf8') : undefined;
  writeFileSync(join(vol, ts, '..name'), ts);
  symlinkSync(ts, join(vol, '..data_tmp'));
  renameSync(join(vol, '..data_tmp'), join(vol, '..data'));
  for (const k of Object.keys(files)) if (!existsSync(join(vol, k))) symlinkSync(`..data/${k}`, join(vol, k));
  if (old) rmSync(join(vol, old), { recursive: true, force: true });
  return ts;
}

for (const mode of ['auto', 'off'] as const) {
  const fallback = mode === 'off' || !kernelIdmapsTmpfs;
  describe(`kubelet's tmpfs volumes with VNODE_TMPFS_IDMAP=${mode} (${fallback ? 'mirrored / chowned' : 'ID-mapped'}) on containerd ${version}`, () => {
    const suite = vnodeSuite({ version, env: { VNODE_TMPFS_IDMAP: mode } });

    it('root in the pod reads a 0400 secret and a projected token, sees ..data swaps, and shares emptyDir Memory and /dev/shm', async () => {
      const uid = `tmpfs-${mode}-${process.pid}-${Date.now()}`;
      const podDir = join('/var/lib/kubelet/pods', uid);
      const secret = join(podDir, 'volumes/kubernetes.io~secret/creds');
      const projected = join(podDir, 'volumes/kubernetes.io~projected/kube-api-access-x');
      const memory = join(podDir, 'volumes/kubernetes.io~empty-dir/cache');
      const vols = [secret, projected, memory];
      try {
        // kubelet backs each of these with a tmpfs of its own; emptyDir is 0777
        for (const v of vols) {
          mkdirSync(v, { recursive: true });
          execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', v]);
        }
        chmodSync(memory, 0o777);
        const firstSecret = writeAtomic(secret, { password: { text: 'hunter2\n', mode: 0o400 } });
        writeAtomic(projected, { token: { text: 'token-1\n', mode: 0o600 }, 'ca.crt': { text: 'CA\n', mode: 0o644 }, namespace: { text: 'default\n', mode: 0o644 } });

        await withPod(suite.env, { namespace: `tmpfs-${mode}`, uid }, async (pod) => {
          const mounts = [
            { container_path: '/etc/creds', host_path: secret, readonly: true },
            { container_path: '/var/run/secrets/kubernetes.io/serviceaccount', host_path: projected, readonly: true },
            { container_path: '/cache', host_path: memory },
          ] as never[];
          // a subPath of the secret: kubelet binds the resolved file itself, and never updates it
          const subPath = { container_path: '/etc/password', host_path: join(secret, firstSecret, 'password'), readonly: true } as never;
          const a = await pod.runContainer({ name: 'a', command: SLEEP, mounts: [...mounts, subPath] });
          const b = await pod.runContainer({ name: 'b', command: SLEEP, mounts });
          await pod.waitForState(a, 'CONTAINER_RUNNING');
          await pod.waitForState(b, 'CONTAINER_RUNNING');
          const sa = '/var/run/secrets/kubernetes.io/serviceaccount';
          const rec = vnodeRecords(suite.ctd).find((r) => r.key === `ns/tmpfs-${mode}`)!;
          assert.ok(rec, 'the pod has a vNode');
          const root = rec.range.start;

          // the path taken: mirrors only on the fallback, one per atomic-writer volume per container, and the subPath copy's tmpfs with its file bound at the mount point
          assert.equal(mirrorMounts().length, fallback ? 6 : 0, `mirror mounts:\n${mirrorMounts().join('\n')}`);

          // secrets and token: root-owned inside, with kubelet's modes, readable by root
          assert.equal((await exec(suite.env, a, ['id', '-u'])).trim(), '0');
          assert.equal((await exec(suite.env, a, ['stat', '-L', '-c', '%u:%g %a', '/etc/creds/password', `${sa}/token`, `${sa}/ca.crt`])).trim().split('\n').join(' | '), '0:0 400 | 0:0 600 | 0:0 644');
          assert.equal(await exec(suite.env, a, ['cat', '/etc/creds/password', '/etc/password']), 'hunter2\nhunter2\n');
          assert.equal((await exec(suite.env, a, ['stat', '-c', '%u:%g %a', '/etc/password'])).trim(), '0:0 400', 'the subPath file');
          assert.equal(await exec(suite.env, b, ['cat', `${sa}/token`, `${sa}/namespace`]), 'token-1\ndefault\n');
          assert.equal(await exec(suite.env, a, ['readlink', '/etc/creds/password']), '..data/password\n', "kubelet's links, as laid out");
          assert.ok(await fails(suite.env, a, ['sh', '-c', 'echo x > /etc/creds/new']), 'secret volumes are read-only');
          // kubelet's own files are never touched
          assert.equal(statSync(join(secret, '..data', 'password')).uid, 0);

          // kubelet swaps ..data: both containers see the new content
          writeAtomic(projected, { token: { text: 'token-2\n', mode: 0o600 }, 'ca.crt': { text: 'CA\n', mode: 0o644 }, namespace: { text: 'default\n', mode: 0o644 } });
          writeAtomic(secret, { password: { text: 'rotated\n', mode: 0o400 } });
          for (const c of [a, b]) {
            await waitFor('the token swap seen in the pod', async () => (await exec(suite.env, c, ['cat', `${sa}/token`])) === 'token-2\n', 10_000, 200);
            await waitFor('the secret swap seen in the pod', async () => (await exec(suite.env, c, ['cat', '/etc/creds/password'])) === 'rotated\n', 10_000, 200);
          }
          assert.equal((await exec(suite.env, a, ['stat', '-L', '-c', '%u:%g %a', `${sa}/token`])).trim(), '0:0 600');
          // the old timestamped directory goes from the mirror as from the source
          assert.equal((await exec(suite.env, a, ['sh', '-c', `ls -a ${sa} | grep -c '^\\.\\.2026'`])).trim(), '1');

          // emptyDir medium Memory: root:root inside, shared, and written through to kubelet's tmpfs
          assert.equal((await exec(suite.env, a, ['stat', '-c', '%u:%g', '/cache', '/dev/shm'])).trim(), '0:0\n0:0');
          await exec(suite.env, a, ['sh', '-c', 'echo from-a > /cache/f && mkdir /cache/d && echo shm > /dev/shm/seg && chown 1000:1000 /cache/d']);
          assert.equal(await exec(suite.env, b, ['cat', '/cache/f', '/dev/shm/seg']), 'from-a\nshm\n', 'the other container sees both');
          assert.equal(readFileSync(join(memory, 'f'), 'utf8'), 'from-a\n');
          // the owners on the host: through an ID-mapped mount the pod's root writes host root;
          // through the chowned plain bind it writes the vNode's own IDs (docs/kernel-6.1.md)
          const f = statSync(join(memory, 'f'));
          const d = statSync(join(memory, 'd'));
          const top = statSync(memory);
          if (fallback) {
            assert.deepEqual([top.uid, top.gid, f.uid, f.gid, d.uid], [root, root, root, root, root + 1000]);
          } else {
            assert.deepEqual([top.uid, top.gid, f.uid, f.gid, d.uid], [0, 0, 0, 0, 1000]);
          }
          assert.ok(await fails(suite.env, b, ['cat', '/cache/nope']), 'sanity: a missing file fails');

          // a restarted manager watches the mirrors' sources again (their record is in the task's)
          const before = managerPid(suite.ctd);
          process.kill(before, 'SIGKILL');
          await waitFor('a new manager', () => {
            const p = managerPid(suite.ctd);
            return p !== before && isAlive(p) ? p : undefined;
          }, 15_000, 100);
          writeAtomic(projected, { token: { text: 'token-3\n', mode: 0o600 }, 'ca.crt': { text: 'CA\n', mode: 0o644 }, namespace: { text: 'default\n', mode: 0o644 } });
          await waitFor('the swap after a manager restart seen in the pod', async () => (await exec(suite.env, b, ['cat', `${sa}/token`])) === 'token-3\n', 15_000, 200);
        });

        // nothing is left: no mirror, no clone, no scratch directory of the pod's tasks
        assert.deepEqual(mirrorMounts(), []);
        const mountsDir = join(instanceDir(suite.ctd), 'mounts');
        assert.deepEqual(mountsBelow(mountsDir), []);
        const left = existsSync(mountsDir) ? readdirSync(mountsDir, { recursive: true }).map(String) : [];
        assert.deepEqual(left.filter((p) => p.includes('/')), [], 'no task directory left');
      } finally {
        for (const v of vols) spawnUmount(v);
        rmSync(podDir, { recursive: true, force: true });
      }
    });
  });
}

function spawnUmount(path: string): void {
  try {
    execFileSync('umount', ['-l', path], { stdio: 'ignore' });
  } catch {
    /* not mounted */
  }
}
