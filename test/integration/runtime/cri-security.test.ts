// Security-context options kubelet sends, under the runc and the vnode handler of one
// containerd, on every containerd version here, checked inside the pod: user, group and
// supplementary groups, a read-only root filesystem, capabilities added and dropped,
// no_new_privs, namespaced sysctls, masked and read-only paths (procMount Default and
// Unmasked), seccomp RuntimeDefault and Unconfined. Where vnode differs by design
// (docs/runtime.md, Differences from runc) the vnode behaviour is asserted.
import assert from 'node:assert/strict';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { ContainerConfig, LinuxContainerSecurityContext } from '../../../src/k8s/cri/index.js';
import { availableContainerdVersions, startContainerd, type ContainerdInstance } from '../../support/containerd.js';
import { containerConfig, criEnv, withPod, type CriEnv, type TestPod } from '../../support/cri.js';

const versions = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',') ?? availableContainerdVersions().filter((v) => v !== '1.6')) as ReturnType<typeof availableContainerdVersions>;
const HANDLERS = ['runc', 'vnode'] as const;

async function runWith(env: CriEnv, pod: TestPod, name: string, patch: (sc: LinuxContainerSecurityContext, c: ContainerConfig) => void): Promise<string> {
  const cfg = containerConfig(env, pod.config, { name, command: ['sleep', '3600'] }, pod.spec);
  patch(cfg.linux!.security_context!, cfg);
  const id = await env.cri.createContainer(pod.id, cfg, pod.config);
  await env.cri.startContainer(id);
  await pod.waitForState(id, 'CONTAINER_RUNNING');
  return id;
}

async function sh(env: CriEnv, cid: string, script: string): Promise<string> {
  const r = await env.cri.execSync(cid, ['sh', '-c', script], 15);
  return r.stdout.toString() + r.stderr.toString();
}

/** The kernel has AppArmor on (containerd then applies profiles, its default one included). */
function appArmorEnabled(): boolean {
  const enabled = '/sys/module/apparmor/parameters/enabled';
  return existsSync(enabled) && readFileSync(enabled, 'utf8').trim() === 'Y';
}

const statusField = (out: string, field: string) => new RegExp(`^${field}:\\s+(\\S+)`, 'm').exec(out)?.[1];

for (const version of versions) {
  describe(`security context on containerd ${version}`, () => {
    let ctd: ContainerdInstance;
    before(async () => {
      ctd = await startContainerd({ version });
    });
    after(async () => {
      await ctd?.stop();
    });

    it('runAsUser, runAsGroup, supplementalGroups; readOnlyRootFilesystem; capabilities; allowPrivilegeEscalation=false', async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        await withPod(env, { namespace: 'sec-ctx' }, async (pod) => {
          const user = await runWith(env, pod, 'user', (sc) => {
            sc.run_as_user = { value: 1000 };
            sc.run_as_group = { value: 3000 };
            sc.supplemental_groups = ['4000', '5000'];
          });
          assert.equal((await sh(env, user, 'id -u; id -g; id -G')).trim(), '1000\n3000\n3000 4000 5000', env.label);

          const ro = await runWith(env, pod, 'ro', (sc) => { sc.readonly_rootfs = true; });
          const roOut = await sh(env, ro, 'touch /x 2>&1; touch /tmp/x 2>&1; echo ok > /dev/shm/x && echo shm-writable');
          assert.equal((roOut.match(/Read-only file system/g) ?? []).length, 2, `${env.label}: ${roOut}`);
          assert.match(roOut, /shm-writable/, env.label);

          const caps = await runWith(env, pod, 'caps', (sc) => { sc.capabilities = { add_capabilities: ['NET_BIND_SERVICE'], drop_capabilities: ['ALL'], add_ambient_capabilities: [] } as never; });
          const status = await sh(env, caps, 'cat /proc/self/status');
          assert.equal(statusField(status, 'CapEff'), '0000000000000400', `${env.label}: only CAP_NET_BIND_SERVICE`);
          assert.equal(statusField(status, 'CapBnd'), '0000000000000400', env.label);
          const chown = await sh(env, caps, 'touch /tmp/f && chown 5:5 /tmp/f 2>&1 || echo refused');
          assert.match(chown, /refused/, `${env.label}: CAP_CHOWN dropped: ${chown}`);

          const nnp = await runWith(env, pod, 'nnp', (sc) => { sc.no_new_privs = true; });
          assert.equal(statusField(await sh(env, nnp, 'cat /proc/self/status'), 'NoNewPrivs'), '1', env.label);
          const def = await runWith(env, pod, 'def', () => {});
          assert.equal(statusField(await sh(env, def, 'cat /proc/self/status'), 'NoNewPrivs'), '0', env.label);
        });
      }
    });

    it('fsGroup as kubelet applies it (group-owned setgid volume, the group among the supplementary ones): the container writes with that group, and the host sees the same owners as under runc', async () => {
      const hostOwners: Record<string, string> = {};
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        const uid = `fsgroup-${handler}-${process.pid}-${Date.now()}`;
        const podDir = join('/var/lib/kubelet/pods', uid);
        const vol = join(podDir, 'volumes/kubernetes.io~empty-dir/data');
        mkdirSync(vol, { recursive: true });
        // kubelet's SetVolumeOwnership for fsGroup 2000: group 2000, g+rw, setgid on directories
        chownSync(vol, 0, 2000);
        chmodSync(vol, 0o2775);
        try {
          await withPod(env, { namespace: 'fsgroup', uid }, async (pod) => {
            const c = await runWith(env, pod, 'writer', (sc, cfg) => {
              sc.run_as_user = { value: 1000 };
              sc.run_as_group = { value: 3000 };
              sc.supplemental_groups = ['2000'];
              cfg.mounts = [{ container_path: '/data', host_path: vol } as never];
            });
            const out = await sh(env, c, 'stat -c "%u:%g %A" /data; echo x > /data/new && stat -c "%u:%g" /data/new');
            assert.equal(out.trim(), '0:2000 drwxrwsr-x\n1000:2000', `${env.label}: ${out}`);
          });
          const st = statSync(join(vol, 'new'));
          hostOwners[handler] = `${st.uid}:${st.gid}`;
        } finally {
          rmSync(podDir, { recursive: true, force: true });
        }
      }
      // an ID-mapped mount maps the IDs back on write: the host sees 1000:2000 under both
      assert.deepEqual(hostOwners, { runc: '1000:2000', vnode: '1000:2000' });
    });

    it('namespaced sysctls of the pod are set in its namespaces', async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        await withPod(env, { namespace: 'sec-sysctl', sysctls: { 'kernel.shm_rmid_forced': '1', 'net.ipv4.ip_unprivileged_port_start': '1024', 'net.ipv4.tcp_syncookies': '0' } }, async (pod) => {
          const c = await runWith(env, pod, 's', () => {});
          const out = await sh(env, c, 'cat /proc/sys/kernel/shm_rmid_forced /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/net/ipv4/tcp_syncookies');
          assert.equal(out, '1\n1024\n0\n', env.label);
        });
      }
    });

    it('masked and read-only paths (procMount Default), and procMount Unmasked', async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        await withPod(env, { namespace: 'sec-proc' }, async (pod) => {
          // the masked files this kernel has (kubelet's list, KUBELET_MASKED_PATHS)
          const masked = ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/latency_stats'].filter((f) => existsSync(f));
          assert.ok(masked.length > 0, 'some masked file exists on this host');
          const probe = `for f in ${masked.join(' ')}; do echo "$f $(cat $f 2>/dev/null | wc -c)"; done; echo 0 > /proc/sys/kernel/shm_rmid_forced 2>/dev/null && echo sys-writable || echo sys-read-only`;
          const def = await runWith(env, pod, 'def', () => {});
          const d = await sh(env, def, probe);
          for (const f of masked) assert.match(d, new RegExp(`^${f} 0$`, 'm'), `${env.label}: ${f} masked: ${d}`);
          assert.match(d, /^sys-read-only$/m, `${env.label}: /proc/sys read-only: ${d}`);

          // Unmasked (kubelet sends empty lists): runc leaves /proc as the kernel's; vnode
          // still masks the host-only files (vnodefs), by design.
          // On an AppArmor host containerd confines every container with its default profile,
          // which denies these files too: an unmasked /proc comes with appArmorProfile Unconfined.
          const un = await runWith(env, pod, 'unmasked', (sc) => {
            sc.masked_paths = [];
            sc.readonly_paths = [];
            if (appArmorEnabled()) sc.apparmor = { profile_type: 'Unconfined', localhost_ref: '' } as never;
          });
          const u = await sh(env, un, probe);
          const readable = masked.filter((f) => new RegExp(`^${f} [1-9]`, 'm').test(u));
          if (handler === 'runc') assert.ok(readable.length > 0, `${env.label}: unmasked host files readable: ${u}`);
          else assert.deepEqual(readable, [], `${env.label}: host-only /proc files stay masked in a vNode: ${u}`);
          assert.match(u, /^sys-writable$/m, `${env.label}: /proc/sys writable when unmasked: ${u}`);
        });
      }
    });

    it('seccomp Localhost: the pod\'s own profile applies under both, and under vnode on top of vnode\'s filter', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'vnode-seccomp-'));
      const profile = join(dir, 'deny-mkdir.json');
      // everything allowed but mkdir/mkdirat, which fail with EACCES (13)
      writeFileSync(profile, JSON.stringify({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 13 }] }));
      const filters: Record<string, number> = {};
      try {
        for (const handler of HANDLERS) {
          const env = criEnv(ctd, handler);
          await withPod(env, { namespace: 'sec-seccomp-local' }, async (pod) => {
            const lh = await runWith(env, pod, 'lh', (sc) => { sc.seccomp = { profile_type: 'Localhost', localhost_ref: profile } as never; });
            const un = await runWith(env, pod, 'un', (sc) => { sc.seccomp = { profile_type: 'Unconfined', localhost_ref: '' } as never; });
            const out = await sh(env, lh, 'mkdir /tmp/d 2>&1; echo rc=$?; touch /tmp/f && echo touched');
            assert.match(out, /mkdir: can't create directory '\/tmp\/d': Permission denied\nrc=1\ntouched/, `${env.label}: ${out}`);
            const n = Number(statusField(await sh(env, lh, 'cat /proc/self/status'), 'Seccomp_filters'));
            const base = Number(statusField(await sh(env, un, 'cat /proc/self/status'), 'Seccomp_filters'));
            filters[handler] = n - base;
            assert.equal(n - base, 1, `${env.label}: the profile is one filter more than an Unconfined container has (${n} vs ${base})`);
            filters[`${handler} unconfined`] = base;
          });
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      // an Unconfined container has no filter under runc, vnode's own under vnode
      assert.equal(filters['runc unconfined'], 0);
      assert.ok(filters['vnode unconfined']! >= 1, JSON.stringify(filters));
    });

    it('AppArmor: on a host without it containerd refuses the profiles before any runtime; with it RuntimeDefault and a Localhost profile confine the container, under runc and vnode', async (t) => {
      const hostHasAppArmor = appArmorEnabled();
      if (!hostHasAppArmor) {
        for (const handler of HANDLERS) {
          const env = criEnv(ctd, handler);
          await withPod(env, { namespace: 'sec-apparmor' }, async (pod) => {
            for (const profile of [{ profile_type: 'RuntimeDefault', localhost_ref: '' }, { profile_type: 'Localhost', localhost_ref: 'vnode-test-profile' }]) {
              const cfg = containerConfig(env, pod.config, { name: `aa-${profile.profile_type.toLowerCase()}`, command: ['sleep', '3600'] }, pod.spec);
              cfg.linux!.security_context!.apparmor = profile as never;
              const refused = await env.cri.createContainer(pod.id, cfg, pod.config).then(() => 'created', (e: Error) => e.message);
              assert.match(refused, /failed to generate apparmor spec opts: apparmor is not supported/, `${env.label} ${profile.profile_type}: ${refused}`);
            }
            // and the pod goes on: a container without a profile runs
            const plain = await runWith(env, pod, 'plain', () => {});
            assert.match(await sh(env, plain, 'echo ok'), /^ok/, env.label);
          });
        }
        return;
      }
      if (!existsSync('/sbin/apparmor_parser')) return t.skip('AppArmor is on but apparmor_parser is missing (apt-get install apparmor)');
      const dir = mkdtempSync(join(tmpdir(), 'vnode-apparmor-'));
      const profileFile = join(dir, 'vnode-test-profile');
      // everything but writing /etc/aa-denied
      writeFileSync(profileFile, 'profile vnode-test-profile flags=(attach_disconnected,mediate_deleted) {\n  file,\n  capability,\n  network,\n  signal,\n  ptrace,\n  unix,\n  mount,\n  umount,\n  pivot_root,\n  deny /etc/aa-denied w,\n}\n');
      execFileSync('/sbin/apparmor_parser', ['-r', profileFile]);
      const seen: Record<string, string> = {};
      try {
        for (const handler of HANDLERS) {
          const env = criEnv(ctd, handler);
          await withPod(env, { namespace: 'sec-apparmor' }, async (pod) => {
            const rd = await runWith(env, pod, 'rd', (sc) => { sc.apparmor = { profile_type: 'RuntimeDefault', localhost_ref: '' } as never; });
            const lh = await runWith(env, pod, 'lh', (sc) => { sc.apparmor = { profile_type: 'Localhost', localhost_ref: 'vnode-test-profile' } as never; });
            const rdOut = (await sh(env, rd, 'cat /proc/self/attr/current')).trim();
            const lhOut = await sh(env, lh, 'cat /proc/self/attr/current; echo x > /etc/aa-denied 2>&1; echo x > /etc/aa-ok && echo wrote');
            seen[handler] = `${rdOut} | ${lhOut.trim().split('\n').join(' | ')}`;
          });
        }
      } finally {
        try { execFileSync('/sbin/apparmor_parser', ['-R', profileFile]); } catch { /* still in use */ }
        rmSync(dir, { recursive: true, force: true });
      }
      console.log(`${version} AppArmor: ${JSON.stringify(seen)}`);
      // stdout, then stderr
      assert.match(seen['runc']!, /^cri-containerd\.apparmor\.d \(enforce\) \| vnode-test-profile \(enforce\) \| wrote \| sh: can't create \/etc\/aa-denied: Permission denied$/, JSON.stringify(seen));
      assert.equal(seen['vnode'], seen['runc']);
    });

    it('seccomp RuntimeDefault filters under both; Unconfined has no filter under runc and vnode\'s own under vnode', async () => {
      for (const handler of HANDLERS) {
        const env = criEnv(ctd, handler);
        await withPod(env, { namespace: 'sec-seccomp' }, async (pod) => {
          const rd = await runWith(env, pod, 'rd', (sc) => { sc.seccomp = { profile_type: 'RuntimeDefault', localhost_ref: '' } as never; });
          const un = await runWith(env, pod, 'un', (sc) => { sc.seccomp = { profile_type: 'Unconfined', localhost_ref: '' } as never; });
          assert.equal(statusField(await sh(env, rd, 'cat /proc/self/status'), 'Seccomp'), '2', env.label);
          const unStatus = await sh(env, un, 'cat /proc/self/status');
          assert.equal(statusField(unStatus, 'Seccomp'), handler === 'vnode' ? '2' : '0', env.label);
          // RuntimeDefault's own refusals apply on top of vnode's filter: unshare(CLONE_NEWUSER) is refused
          const us = await sh(env, rd, 'unshare -U true 2>&1; echo rc=$?');
          assert.doesNotMatch(us, /rc=0/, `${env.label}: RuntimeDefault refuses unshare: ${us}`);
        });
      }
    });
  });
}
