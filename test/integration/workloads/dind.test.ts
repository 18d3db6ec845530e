// Docker-in-Docker in a vNode pod (docs/privileged-workloads.md), through CRI: Debian's
// dockerd is the main process of a privileged container, /var/lib/docker is an emptyDir
// (overlay2 on it), and inside it docker loads, runs, execs, builds, runs --privileged,
// publishes a port over its bridge and NAT, makes networks and enforces limits below the
// pod's. What a vNode refuses (mknod of devices, nested user namespaces) fails inside
// docker's containers with EPERM, and docker goes on. From the host: no mount, link,
// iptables rule or cgroup of it outside the pod, and nothing left once the pod is removed.
// Then the same in a hostPID + hostNetwork pod, where both mean the vNode's.
// containerd 2.x with a vNode per namespace, 1.7 with a vNode per pod (VNODE_PER_POD).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { hostCgroupLayout } from '../../../src/cgroup/index.js';
import { withPod, waitFor, type CriEnv, type TestPod } from '../../support/cri.js';
import { containerPid } from '../../support/flows.js';
import { instanceDir, vnodeSuite } from '../../support/vnode-host.js';
import type { ContainerdInstance } from '../../support/containerd.js';
import { cgroupDirsOf, execSh, gained, hostCgroupsMatching, hostHasSysResource, hostSnapshot, importDebianImage, kubeletEmptyDir, workloadLanes } from '../../support/workloads.js';

const MiB = 1024 * 1024;
const lanes = workloadLanes();

/** The manager's seccomp lines (refusals, helper failures), for a failure message. */
function managerSeccompLog(ctd: ContainerdInstance): string {
  try {
    return readFileSync(join(instanceDir(ctd), 'manager.log'), 'utf8').split('\n').filter((l) => l.includes('seccomp')).slice(-10).join('\n');
  } catch { return '(no manager log)'; }
}

const isBridge = (link: string) => existsSync(`/sys/class/net/${link}/bridge`);

const sh = (env: CriEnv, cid: string, script: string, timeoutSec = 120) => execSh(env, cid, script, timeoutSec);

/** dockerd as the pod's privileged main process, /var/lib/docker on `lib`, 768 MiB; returns once it answers. */
async function startDockerd(env: CriEnv, pod: TestPod, image: string, lib: string): Promise<string> {
  const cid = await pod.runContainer({
    name: 'dockerd', image, privileged: true,
    args: ['dockerd', '--host=unix:///var/run/docker.sock'], // through the image's entrypoint (its cgroup v2 step)
    mounts: [{ container_path: '/var/lib/docker', host_path: lib } as never],
    resources: { memory_limit_in_bytes: 768 * MiB },
  });
  await waitFor('dockerd answers', async () => (await sh(env, cid, 'docker version >/dev/null 2>&1 && echo up', 10)).out === 'up', 60_000, 500);
  return cid;
}

for (const lane of lanes) {
  describe(`Docker-in-Docker on containerd ${lane.version} (${lane.perPod ? 'a vNode per pod' : 'a vNode per namespace'}, ${hostCgroupLayout().mode})`, () => {
    const suite = vnodeSuite({ version: lane.version, env: lane.perPod ? { VNODE_PER_POD: 'true' } : {} });

    it('runs dockerd with overlay2 storage and docker run/exec/build/--privileged/-p/network/limits inside, confined to the pod', { timeout: 600_000 }, async () => {
      const image = await importDebianImage(suite.ctd.ctr, 'docker');
      const emptyDir = kubeletEmptyDir('docker-lib');
      const lib = emptyDir.dir;
      const before = hostSnapshot();
      let innerIds: string[] = [];
      try {
        await withPod(suite.env, { namespace: 'dind', privileged: true }, async (pod) => {
          const cid = await startDockerd(suite.env, pod, image, lib);

          const info = await sh(suite.env, cid, `docker info --format '{{.Driver}} {{.CgroupDriver}}'`);
          assert.equal(info.out, 'overlay2 cgroupfs', `storage is overlay2, not vfs\n${info.err}`);

          const load = await sh(suite.env, cid, 'docker load -i /usr/share/vnode/images/busybox.tar');
          assert.match(load.out, /Loaded image: busybox:latest/, load.err);
          // the emptyDir is an ID-mapped clone: the vNode's root writes there as uid 0, as under runc
          const overlay2 = statSync(join(lib, 'overlay2'));
          assert.equal(overlay2.uid, 0, `docker's overlay2 store is in the pod's emptyDir on the host, owned by uid 0 on disk`);

          const hello = await sh(suite.env, cid, 'docker run --rm busybox echo hello from docker in a vNode');
          assert.equal(hello.out, 'hello from docker in a vNode', hello.err);
          assert.equal((await sh(suite.env, cid, `docker run --rm busybox sh -c 'exit 7'`)).code, 7, 'the inner exit code comes through');

          const detached = await sh(suite.env, cid, 'docker run -d --name web -p 8080:80 busybox httpd -f -p 80 -h /etc');
          assert.equal(detached.code, 0, detached.err);
          assert.equal((await sh(suite.env, cid, 'docker exec web cat /etc/hostname')).out.length, 12, 'docker exec into a detached container');
          // published port: over docker0 + DNAT (the pod's own address), and docker-proxy (loopback)
          const port = await sh(suite.env, cid, [
            'ip=$(ip -4 -o addr show eth0 | awk \'{print $4}\' | cut -d/ -f1)',
            'for i in $(seq 50); do busybox wget -qO- http://127.0.0.1:8080/hostname >/dev/null 2>&1 && break; sleep 0.1; done',
            'echo "dnat=$(busybox wget -qO- http://$ip:8080/hostname)"',
            'echo "proxy=$(busybox wget -qO- http://127.0.0.1:8080/hostname)"',
            'echo "web=$(docker inspect -f {{.Config.Hostname}} web)"',
            'iptables-save -t nat | grep -c "DNAT.*--dport 8080"',
          ].join('\n'));
          const kv = Object.fromEntries(port.out.split('\n').filter((l) => l.includes('=')).map((l) => l.split('=') as [string, string]));
          assert.equal(kv['dnat'], kv['web'], `reachable on the pod's address through the inner NAT\n${port.out}\n${port.err}`);
          assert.equal(kv['proxy'], kv['web'], port.out);

          const build = await sh(suite.env, cid, 'mkdir -p /tmp/b && printf "FROM busybox\\nRUN echo built-in-a-vnode > /built\\nCMD cat /built\\n" > /tmp/b/Dockerfile && docker build -q -t t1 /tmp/b >/dev/null && docker run --rm t1');
          assert.equal(build.out, 'built-in-a-vnode', `docker build with a RUN step\n${build.err}`);

          // --privileged asks runc for every capability. Where host root lacks CAP_SYS_RESOURCE
          // (this CI machine), host runc fails the same way ("unable to apply caps"), so the test
          // checks that exact failure and then runs the same container without that one cap.
          if (hostHasSysResource()) {
            const priv = await sh(suite.env, cid, `docker run --rm --privileged busybox sh -c 'mkdir -p /mnt && mount -t tmpfs t /mnt && echo privileged-mount-ok'`);
            assert.equal(priv.out, 'privileged-mount-ok', priv.err);
          } else {
            const priv = await sh(suite.env, cid, 'docker run --rm --privileged busybox true');
            assert.match(priv.err, /unable to apply caps: operation not permitted/, `${priv.err}\n${managerSeccompLog(suite.ctd)}`);
          }
          const allCaps = await sh(suite.env, cid, `docker run --rm --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined --security-opt systempaths=unconfined busybox sh -c 'mkdir -p /mnt && mount -t tmpfs t /mnt && echo all-caps-mount-ok'`);
          assert.equal(allCaps.out, 'all-caps-mount-ok', `${allCaps.err}\n${managerSeccompLog(suite.ctd)}`);

          const net = await sh(suite.env, cid, `docker network create inner-net >/dev/null && docker run --rm --network inner-net busybox sh -c "ip -4 -o addr show eth0 | awk '{print \\$4}'"`);
          assert.match(net.out, /^172\.\d+\.\d+\.\d+\/16$/, `an address on the new network\n${net.err}`);

          const v2 = hostCgroupLayout().mode === 'v2';
          const limits = await sh(suite.env, cid, v2
            ? `docker run --rm -m 32m --cpus 0.5 busybox sh -c 'cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/cpu.max'`
            : `docker run --rm -m 32m --cpus 0.5 busybox sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes /sys/fs/cgroup/cpu/cpu.cfs_quota_us'`);
          assert.deepEqual(limits.out.split('\n'), v2 ? [String(32 * MiB), '50000 100000'] : [String(32 * MiB), '50000'], limits.err);
          const oom = await sh(suite.env, cid, `docker run --rm -m 16m --memory-swap 16m busybox sh -c 'x=$(head -c 100000000 /dev/zero | tr "\\0" x); echo survived'`);
          assert.equal(oom.code, 137, `the inner limit OOM-kills\n${oom.out}\n${oom.err}`);
          if (!v2) {
            const above = await sh(suite.env, cid, `docker run --rm -m 2g busybox sh -c 'grep ^hierarchical_memory_limit /sys/fs/cgroup/memory/memory.stat'`);
            assert.equal(above.out, `hierarchical_memory_limit ${768 * MiB}`, `a higher inner limit stays under the pod's\n${above.err}`);
          }

          // refusals, as docker's containers see them; docker goes on
          const mknod = await sh(suite.env, cid, `docker run --rm busybox mknod /tmp/sda b 8 0`);
          assert.match(mknod.err, /Operation not permitted/, mknod.err);
          const userns = await sh(suite.env, cid, `docker run --rm --cap-add ALL --cap-drop SYS_RESOURCE --security-opt seccomp=unconfined busybox unshare -U true`);
          assert.match(userns.err, /Operation not permitted/, userns.err);
          assert.equal((await sh(suite.env, cid, 'docker run --rm busybox true')).code, 0, 'docker runs on after the refusals');

          // the host: nothing of it outside the pod
          // (the manager's ID-mapped clone of the emptyDir is the pod's own volume mount)
          const now = gained(before, hostSnapshot());
          assert.deepEqual(now.mounts.filter((m) => /overlay2|\/docker|moby/.test(m) && !m.startsWith(`${lib} `)), [], `no inner docker mount on the host\n${now.mounts.join('\n')}`);
          assert.deepEqual(now.links.filter((l) => /^(docker0|br-|veth)/.test(l) && !/^veth[0-9a-f]{8}$/.test(l)), [], `no inner docker link on the host: ${now.links.join(' ')}`);
          const cniLinks = now.links.filter((l) => isBridge(l) || /^veth[0-9a-f]{8}$/.test(l));
          assert.deepEqual(now.links.filter((l) => !cniLinks.includes(l)), [], `only the pod's CNI bridge and veth are new on the host: ${now.links.join(' ')}`);
          assert.doesNotMatch(execFileSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' }), /inet 172\.1[78]\./, 'no docker network address on the host');
          assert.deepEqual(now.iptables.filter((r) => /DOCKER|172\.1[78]\./.test(r)), [], `no docker rule in the host's iptables\n${now.iptables.join('\n')}`);
          // on v2 the image's entrypoint moved the container's processes to <its cgroup>/init
          const unified = hostCgroupLayout().mode === 'v2';
          const pidDirs = cgroupDirsOf(await containerPid(suite.env, cid));
          if (unified) assert.ok(pidDirs.every((d) => d.endsWith('/init')), `dockerd runs in the leaf the entrypoint made: ${pidDirs.join(' ')}`);
          const containerDirs = unified ? pidDirs.map((d) => d.slice(0, -'/init'.length)) : pidDirs;
          innerIds = (await sh(suite.env, cid, 'docker ps -aq --no-trunc')).out.split('\n').filter(Boolean);
          const inner = hostCgroupsMatching(/^docker$/);
          assert.ok(inner.length > 0, 'docker made its cgroups');
          for (const p of inner) assert.ok(containerDirs.some((d) => p.startsWith(`${d}/`)), `${p} is inside the container's cgroup`);
        });
        const after = gained(before, hostSnapshot());
        // (the manager's own vnodefs mount, made with its first vNode, stays while it runs)
        const managerMount = `/ ${join(instanceDir(suite.ctd), 'vnodefs')}`;
        assert.deepEqual(after.mounts.filter((m) => m !== managerMount), [], `no mount left: ${after.mounts.join('\n')}`);
        // (the test network's bridge, made with the suite's first pod, stays as on a node)
        assert.deepEqual(after.links.filter((l) => !isBridge(l)), [], `no link left: ${after.links.join(' ')}`);
        assert.deepEqual(after.iptables, [], `no iptables rule left: ${after.iptables.join('\n')}`);
        for (const id of innerIds) assert.deepEqual(hostCgroupsMatching(new RegExp(`^${id}$`)), [], `no cgroup of inner container ${id.slice(0, 12)} left`);
      } finally {
        emptyDir.remove();
      }
    });

    // The combination the product was first tried with: hostPID and hostNetwork mean the
    // vNode's, so docker's bridge, NAT rules and containers land in the vNode, not the host.
    it('runs dockerd in a privileged hostPID + hostNetwork pod: docker0 and its NAT in the vNode\'s network, its containers among the vNode\'s processes', { timeout: 600_000 }, async () => {
      const image = await importDebianImage(suite.ctd.ctr, 'docker');
      const emptyDir = kubeletEmptyDir('docker-lib');
      const lib = emptyDir.dir;
      const before = hostSnapshot();
      try {
        await withPod(suite.env, { namespace: 'dind-host', privileged: true, hostNetwork: true, hostPID: true }, async (pod) => {
          const cid = await startDockerd(suite.env, pod, image, lib);
          const pid1 = await sh(suite.env, cid, 'cat /proc/1/comm');
          assert.notEqual(pid1.out, 'dockerd', 'hostPID: dockerd is not PID 1 of its PID namespace (the vNode\'s)');
          assert.match((await sh(suite.env, cid, 'docker load -i /usr/share/vnode/images/busybox.tar')).out, /Loaded image: busybox:latest/);
          const hello = await sh(suite.env, cid, 'docker run --rm busybox echo hello from docker in a vNode');
          assert.equal(hello.out, 'hello from docker in a vNode', hello.err);

          const detached = await sh(suite.env, cid, 'docker run -d --name web -p 8080:80 busybox httpd -f -p 80 -h /etc');
          assert.equal(detached.code, 0, detached.err);
          const seen = await sh(suite.env, cid, [
            'ip=$(ip -4 -o addr show eth0 | awk \'{print $4}\' | cut -d/ -f1)',
            'for i in $(seq 50); do busybox wget -qO- http://127.0.0.1:8080/hostname >/dev/null 2>&1 && break; sleep 0.1; done',
            'echo "dnat=$(busybox wget -qO- http://$ip:8080/hostname)"',
            'echo "web=$(docker inspect -f {{.Config.Hostname}} web)"',
            'echo "docker0=$(cat /sys/class/net/docker0/bridge/bridge_id 2>/dev/null)"',
            'echo "httpd=$(pgrep -x httpd)"',
            'echo "webpid=$(docker inspect -f {{.State.Pid}} web)"',
          ].join('\n'));
          const kv = Object.fromEntries(seen.out.split('\n').filter((l) => l.includes('=')).map((l) => l.split('=') as [string, string]));
          assert.equal(kv['dnat'], kv['web'], `the published port answers on the vNode's own address\n${seen.out}\n${seen.err}`);
          assert.ok(kv['docker0'], `docker0 exists in the vNode's network namespace\n${seen.out}`);
          assert.equal(kv['httpd'], kv['webpid'], `the inner container's process is one of the vNode's processes, as docker sees it\n${seen.out}`);

          const now = gained(before, hostSnapshot());
          assert.ok(!existsSync('/sys/class/net/docker0') || before.links.includes('docker0'), 'docker0 is not on the host');
          assert.deepEqual(now.links.filter((l) => /^(docker0|br-)/.test(l) || (/^veth/.test(l) && !/^veth[0-9a-f]{8}$/.test(l))), [], `no inner docker link on the host: ${now.links.join(' ')}`);
          assert.deepEqual(now.iptables.filter((r) => /DOCKER|172\.1[78]\./.test(r)), [], `no docker rule in the host's iptables\n${now.iptables.join('\n')}`);
          assert.deepEqual(now.mounts.filter((m) => /overlay2|\/docker|moby/.test(m) && !m.startsWith(`${lib} `)), [], `no inner docker mount on the host\n${now.mounts.join('\n')}`);
        });
        const after = gained(before, hostSnapshot());
        const managerMount = `/ ${join(instanceDir(suite.ctd), 'vnodefs')}`;
        assert.deepEqual(after.mounts.filter((m) => m !== managerMount), [], `no mount left: ${after.mounts.join('\n')}`);
        assert.deepEqual(after.links.filter((l) => !isBridge(l)), [], `no link left: ${after.links.join(' ')}`);
        assert.deepEqual(after.iptables, [], `no iptables rule left: ${after.iptables.join('\n')}`);
      } finally {
        emptyDir.remove();
      }
    });
  });
}
