import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planExecProcess, planSpec, type PlanInput, type VnodefsPlacement } from '../../../src/oci/planner.js';
import { InvalidSpecError, parseSpec, type OciSpec } from '../../../src/oci/spec.js';

const vnode: PlanInput['vnode'] = {
  uidBase: 1048576,
  gidBase: 1048576,
  size: 65536,
  nsPath: (t) => `/proc/1/ns/${t === 'network' ? 'net' : t}`,
  hostPathRoot: '/var/lib/vnode/i1/vnodes/ns-a/root',
  hostname: 'ns-a',
};

function spec(over: Partial<OciSpec> = {}): OciSpec {
  return {
    ociVersion: '1.1.0',
    process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/', oomScoreAdj: -998 },
    root: { path: 'rootfs' },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc' },
      { destination: '/etc/hosts', type: 'bind', source: '/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/hosts', options: ['rbind', 'rw'] },
      { destination: '/data', type: 'bind', source: '/etc', options: ['rbind', 'rw'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'network', path: '/var/run/netns/cni-1' }],
    },
    ...over,
  };
}

function input(s: OciSpec, over: Partial<PlanInput> = {}): PlanInput {
  return {
    spec: s,
    vnode,
    rootfsPath: '/run/vnode/i1/rootfs/c1',
    podFilePrefixes: ['/var/lib/containerd', '/run/containerd', '/var/lib/kubelet/pods'],
    idmapDir: '/run/vnode/i1/idmap/c1',
    vnodePidOf: (pid) => (pid === 4242 ? 7 : undefined),
    isSandbox: true,
    ...over,
  };
}

describe('planSpec', () => {
  it('turns a systemd-driver cgroupsPath into its unit\'s directory; leaves a cgroupfs one; refuses a malformed one', () => {
    const sd = spec({ linux: { ...spec().linux, cgroupsPath: 'kubepods-burstable-pod1.slice:cri-containerd:abc' } });
    assert.equal(planSpec(input(sd)).spec.linux!.cgroupsPath, '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/cri-containerd-abc.scope');
    assert.equal(sd.linux!.cgroupsPath, 'kubepods-burstable-pod1.slice:cri-containerd:abc', 'the input spec is not changed');
    const fs = spec({ linux: { ...spec().linux, cgroupsPath: '/kubepods/burstable/pod1/abc' } });
    assert.equal(planSpec(input(fs)).spec.linux!.cgroupsPath, '/kubepods/burstable/pod1/abc');
    const bad = spec({ linux: { ...spec().linux, cgroupsPath: 'a:b' } });
    assert.throws(() => planSpec(input(bad)), (e: unknown) => e instanceof InvalidSpecError && /linux.cgroupsPath: cgroupsPath "a:b"/.test((e as Error).message));
  });

  it('joins the vNode user namespace with its ID range and clamps oomScoreAdj', () => {
    const plan = planSpec(input(spec()));
    const ns = plan.spec.linux!.namespaces!;
    assert.deepEqual(ns[0], { type: 'user', path: '/proc/1/ns/user' });
    assert.deepEqual(plan.spec.linux!.uidMappings, [{ containerID: 0, hostID: 1048576, size: 65536 }]);
    assert.equal(plan.spec.process!.oomScoreAdj, 0);
    assert.equal(plan.spec.root!.path, '/run/vnode/i1/rootfs/c1');
  });

  it('gives a sandbox a fresh network namespace instead of the host-owned CNI one', () => {
    const plan = planSpec(input(spec()));
    assert.deepEqual(plan.spec.linux!.namespaces!.find((n) => n.type === 'network'), { type: 'network' });
    assert.equal(plan.newPodNetwork, true);
    assert.equal(plan.containerdNetns, '/var/run/netns/cni-1', "containerd's netns path, for the adoption of its links");
    assert.equal(plan.hostNetwork, false);
  });

  it('names no containerd netns for a sandbox with a fresh or a /proc network namespace', () => {
    const fresh = planSpec(input(spec({ linux: { namespaces: [{ type: 'mount' }, { type: 'network' }] } })));
    assert.equal(fresh.containerdNetns, undefined);
    assert.equal(fresh.hostNetwork, false);
    const proc = planSpec(input(spec({ linux: { namespaces: [{ type: 'mount' }, { type: 'network', path: '/proc/4242/ns/net' }] } })));
    assert.equal(proc.containerdNetns, undefined);
    assert.equal(proc.newPodNetwork, false);
  });

  it('marks a sandbox without a network namespace as hostNetwork (it joins the vNode one)', () => {
    const plan = planSpec(input(spec({ linux: { namespaces: [{ type: 'mount' }] } })));
    assert.equal(plan.hostNetwork, true);
    assert.equal(plan.containerdNetns, undefined);
    assert.equal(plan.newPodNetwork, false);
    // a pod container of such a pod is not itself a hostNetwork sandbox
    const c = planSpec(input(spec({ linux: { namespaces: [{ type: 'mount' }] } }), { isSandbox: false }));
    assert.equal(c.hostNetwork, false);
  });

  it('gives a container sharing the vNode\'s UTS namespace (hostNetwork) the vNode\'s hostname in /etc/hostname and HOSTNAME; leaves a pod with its own alone', () => {
    const hostnameMount = { destination: '/etc/hostname', type: 'bind', source: '/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/hostname', options: ['rbind', 'rw'] };
    const withHostname = (namespaces: OciSpec['linux'] extends infer L ? L extends { namespaces?: infer N } ? N : never : never) =>
      spec({ process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/', env: ['PATH=/bin', 'HOSTNAME=the-host'] }, mounts: [hostnameMount], linux: { namespaces } });
    const shared = planSpec(input(withHostname([{ type: 'mount' }]), { isSandbox: false, idmapDir: '/run/t/files' }));
    assert.deepEqual(shared.files, [{ path: '/run/t/files/hostname', content: 'ns-a\n' }]);
    assert.equal(shared.spec.mounts!.find((m) => m.destination === '/etc/hostname')!.source, '/run/t/files/hostname');
    assert.deepEqual(shared.spec.process!.env, ['PATH=/bin', 'HOSTNAME=ns-a']);
    assert.equal(shared.idmaps.length, 0, 'not an ID-mapped clone of containerd\'s file');
    const own = planSpec(input(withHostname([{ type: 'mount' }, { type: 'uts' }, { type: 'network', path: '/var/run/netns/cni-1' }]), { idmapDir: '/run/t/files' }));
    assert.deepEqual(own.files, []);
    assert.deepEqual(own.spec.process!.env, ['PATH=/bin', 'HOSTNAME=the-host']);
    assert.equal(own.idmaps.length, 1);
    // a pod container joins its sandbox's UTS namespace by path: the manager says whether that is the vNode's
    const joined = withHostname([{ type: 'mount' }, { type: 'uts', path: '/proc/42/ns/uts' }]);
    const vnodePidOf = () => 7;
    assert.deepEqual(planSpec(input(joined, { isSandbox: false, idmapDir: '/run/t/files', vnodePidOf, joinsVnodeUts: true })).files.length, 1);
    assert.deepEqual(planSpec(input(withHostname([{ type: 'mount' }, { type: 'uts', path: '/proc/42/ns/uts' }]), { isSandbox: false, idmapDir: '/run/t/files', vnodePidOf })).files, []);
  });

  it('puts a pod container into its sandbox network namespace', () => {
    const plan = planSpec(input(spec(), { isSandbox: false, podNetnsPath: '/proc/7/ns/net' }));
    assert.deepEqual(plan.spec.linux!.namespaces!.find((n) => n.type === 'network'), { type: 'network', path: '/proc/7/ns/net' });
    assert.equal(plan.newPodNetwork, false);
    assert.equal(plan.containerdNetns, undefined, 'only a sandbox adopts a network');
  });

  it('refuses a container whose sandbox network is unknown', () => {
    assert.throws(() => planSpec(input(spec(), { isSandbox: false })), /pod sandbox is not known/);
  });

  it('maps hostPID, hostIPC and hostNetwork (absent namespaces) to the vNode namespaces', () => {
    const s = spec({ linux: { namespaces: [{ type: 'mount' }] } });
    const ns = planSpec(input(s)).spec.linux!.namespaces!;
    assert.deepEqual(ns.find((n) => n.type === 'pid'), { type: 'pid', path: '/proc/1/ns/pid' });
    assert.deepEqual(ns.find((n) => n.type === 'ipc'), { type: 'ipc', path: '/proc/1/ns/ipc' });
    assert.deepEqual(ns.find((n) => n.type === 'uts'), { type: 'uts', path: '/proc/1/ns/uts' });
    assert.deepEqual(ns.find((n) => n.type === 'network'), { type: 'network', path: '/proc/1/ns/net' });
    assert.ok(ns.some((n) => n.type === 'cgroup' && !n.path));
  });

  it('translates /proc/<host pid>/ns paths into the vNode PID namespace', () => {
    const s = spec({ linux: { namespaces: [{ type: 'pid', path: '/proc/4242/ns/pid' }, { type: 'mount' }] } });
    const ns = planSpec(input(s)).spec.linux!.namespaces!;
    assert.deepEqual(ns.find((n) => n.type === 'pid'), { type: 'pid', path: '/proc/7/ns/pid' });
    const bad = spec({ linux: { namespaces: [{ type: 'pid', path: '/proc/999/ns/pid' }] } });
    assert.throws(() => planSpec(input(bad)), (e: unknown) => e instanceof InvalidSpecError && /process 999/.test((e as Error).message));
  });

  it('ID-maps pod files and redirects hostPath mounts into the vNode private root', () => {
    const plan = planSpec(input(spec()));
    assert.deepEqual(plan.idmaps, [{ source: '/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/hosts', target: '/run/vnode/i1/idmap/c1/0', readonly: false }]);
    const hosts = plan.spec.mounts!.find((m) => m.destination === '/etc/hosts')!;
    assert.equal(hosts.source, '/run/vnode/i1/idmap/c1/0');
    const data = plan.spec.mounts!.find((m) => m.destination === '/data')!;
    assert.equal(data.source, '/var/lib/vnode/i1/vnodes/ns-a/root/etc');
    assert.deepEqual(plan.hostPaths, [{ path: '/var/lib/vnode/i1/vnodes/ns-a/root/etc', hostSource: '/etc' }]);
    // a path that only looks like a prefix is not under it
    const s = spec({ mounts: [{ destination: '/x', type: 'bind', source: '/var/lib/containerd-evil/x', options: ['rbind'] }] });
    assert.equal(planSpec(input(s)).idmaps.length, 0);
    // containerd's CRI files under a non-default root are recognised by their plugin directory
    const t = spec({ mounts: [{ destination: '/etc/hosts', type: 'bind', source: '/tmp/ctd/root/io.containerd.grpc.v1.cri/sandboxes/s/hosts', options: ['rbind'] }] });
    assert.equal(planSpec(input(t, { podFileMarkers: ['io.containerd.grpc.v1.cri'] })).idmaps.length, 1);
    assert.equal(planSpec(input(t)).idmaps.length, 0);
  });

  it('drops the ID mappings containerd 2.x puts on mounts for hostUsers: false (the range asked for, which the vNode does not map)', () => {
    const asked = [{ containerID: 0, hostID: 13107200, size: 65536 }];
    const s = spec({
      mounts: [
        { destination: '/etc/hosts', type: 'bind', source: '/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/hosts', options: ['rbind', 'rw'], uidMappings: asked, gidMappings: asked },
        { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro', 'idmap'], uidMappings: asked, gidMappings: asked },
        { destination: '/proc', type: 'proc', source: 'proc' },
      ],
    });
    const mounts = planSpec(input(s)).spec.mounts!;
    assert.deepEqual(mounts[0], { destination: '/etc/hosts', type: 'bind', source: '/run/vnode/i1/idmap/c1/0', options: ['rbind', 'rw'] });
    assert.deepEqual(mounts[1], { destination: '/data', type: 'bind', source: '/var/lib/vnode/i1/vnodes/ns-a/root/srv/data', options: ['rbind', 'ro'] });
    assert.deepEqual(mounts[2], { destination: '/proc', type: 'proc', source: 'proc' });
    assert.ok(s.mounts![0]!.uidMappings, 'the input spec is not changed');
  });

  it('keeps host devices out of privileged containers', () => {
    const s = spec({
      process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/', capabilities: { bounding: ['CAP_SYS_ADMIN', 'CAP_NET_ADMIN'] } },
      linux: {
        namespaces: [],
        maskedPaths: [],
        devices: [
          { path: '/dev/sda', type: 'b', major: 8, minor: 0 },
          { path: '/dev/null', type: 'c', major: 1, minor: 3 },
        ],
      },
    });
    assert.deepEqual(planSpec(input(s)).spec.linux!.devices!.map((d) => d.path), ['/dev/null']);
  });

  it('gives a device renamed in the container as a bind mount of the host node with its number', () => {
    const s = spec({
      linux: {
        namespaces: [],
        maskedPaths: [],
        devices: [
          { path: '/dev/xfull', type: 'c', major: 1, minor: 7 },
          { path: '/dev/fuse', type: 'c', major: 10, minor: 229 },
          { path: '/dev/gone', type: 'b', major: 250, minor: 1 },
        ],
      },
    });
    const nodes: Record<string, string> = { 'c1:7': '/dev/full', 'c10:229': '/dev/fuse' };
    const hostDeviceNode = (type: 'c' | 'b', major: number, minor: number) => nodes[`${type}${major}:${minor}`];
    assert.throws(() => planSpec(input(s, { hostDeviceNode })), /device \/dev\/gone \(b 250:1\): no node with that number under the host's \/dev; give the device by its host path/);
    s.linux!.devices!.pop();
    const plan = planSpec(input(s, { hostDeviceNode }));
    // under its own name runc binds it as it is; under another name runc would bind whatever the host has there
    assert.deepEqual(plan.spec.linux!.devices!.map((d) => d.path), ['/dev/fuse']);
    assert.deepEqual(plan.spec.mounts!.filter((m) => m.destination === '/dev/xfull'), [{ destination: '/dev/xfull', type: 'bind', source: '/dev/full', options: ['bind'] }]);
  });

  it('narrows ping_group_range to the GIDs that exist in the vNode', () => {
    const s = spec({ linux: { namespaces: [], sysctl: { 'net.ipv4.ping_group_range': '0 2147483647', 'net.ipv4.ip_unprivileged_port_start': '0' } } });
    const out = planSpec(input(s)).spec.linux!.sysctl as Record<string, string>;
    assert.equal(out['net.ipv4.ping_group_range'], '0 65535');
    assert.equal(out['net.ipv4.ip_unprivileged_port_start'], '0');
  });

  it('repeats the locked nosuid/nodev/noexec flags of an ID-mapped source on its mount', () => {
    const s = spec({
      mounts: [
        { destination: '/dev/shm', type: 'bind', source: '/run/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/shm', options: ['rbind', 'ro'] },
        { destination: '/etc/hosts', type: 'bind', source: '/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/hosts', options: ['rbind', 'rw', 'nosuid'] },
        { destination: '/data', type: 'bind', source: '/run/data', options: ['rbind'] },
      ],
    });
    const asked: string[] = [];
    const mountOptionsOf = (path: string) => {
      asked.push(path);
      return path.startsWith('/run/') ? ['rw', 'nosuid', 'nodev', 'noexec', 'relatime'] : ['rw', 'nosuid', 'relatime'];
    };
    const mounts = planSpec(input(s, { mountOptionsOf })).spec.mounts!;
    assert.deepEqual(mounts[0]!.options, ['rbind', 'ro', 'nosuid', 'nodev', 'noexec']);
    assert.deepEqual(mounts[1]!.options, ['rbind', 'rw', 'nosuid']);
    // a hostPath mount is not a clone of the host's mount: nothing to repeat, nothing asked
    assert.deepEqual(mounts[2]!.options, ['rbind']);
    assert.deepEqual(asked, ['/run/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/shm', '/var/lib/containerd/io.containerd.grpc.v1.cri/sandboxes/s1/hosts']);
    // without the fact, the options stay as given
    assert.deepEqual(planSpec(input(s)).spec.mounts![0]!.options, ['rbind', 'ro']);
  });

  const placement = (over: Partial<VnodefsPlacement> = {}): VnodefsPlacement => ({
    mounts: [{ destination: '/proc/meminfo', type: 'bind', source: '/run/vnode/fs/pod-a/proc/meminfo', options: ['bind', 'ro'] }],
    maskedPaths: ['/proc/kcore', '/proc/keys'],
    hookBinds: [
      { mode: 'rw', source: '/run/vnode/fs/pod-a/proc/sys/kernel/hostname', destination: '/proc/sys/kernel/hostname' },
      { mode: 'rw', source: '/run/vnode/fs/pod-a/proc/pressure', destination: '/proc/pressure' },
      { mode: 'ro', source: '/run/vnode/fs/pod-a/proc/sys/vm/x', destination: '/proc/sysx' },
    ],
    bindHelper: '/opt/vnode/vnode-bind',
    ...over,
  });

  it('places vnodefs: binds after the container mounts, masked paths merged, the vnode-bind createContainer hook', () => {
    const s = spec({
      linux: { namespaces: [], maskedPaths: ['/proc/keys', '/proc/acpi'], readonlyPaths: ['/proc/sys'] },
      hooks: { createContainer: [{ path: '/usr/bin/other' }], poststart: [{ path: '/usr/bin/p' }] },
    });
    const plan = planSpec(input(s, { vnodefs: placement(), hostDeviceNode: () => '/dev/full' }));
    const mounts = plan.spec.mounts!;
    assert.deepEqual(mounts.at(-1), { destination: '/proc/meminfo', type: 'bind', source: '/run/vnode/fs/pod-a/proc/meminfo', options: ['bind', 'ro'] });
    assert.deepEqual(plan.spec.linux!.maskedPaths, ['/proc/keys', '/proc/acpi', '/proc/kcore']);
    const hooks = plan.spec.hooks as Record<string, { path: string; args?: string[] }[]>;
    assert.deepEqual(hooks.poststart, [{ path: '/usr/bin/p' }]);
    assert.equal(hooks.createContainer!.length, 2);
    assert.deepEqual(hooks.createContainer![0], { path: '/usr/bin/other' });
    // below a read-only path (/proc/sys unless privileged) a bind stays read-only; a
    // prefix that is not a path component (/proc/sysx) is not below it
    assert.deepEqual(hooks.createContainer![1], {
      path: '/opt/vnode/vnode-bind',
      args: [
        'vnode-bind',
        'ro', '/run/vnode/fs/pod-a/proc/sys/kernel/hostname', '/run/vnode/i1/rootfs/c1/proc/sys/kernel/hostname',
        'rw', '/run/vnode/fs/pod-a/proc/pressure', '/run/vnode/i1/rootfs/c1/proc/pressure',
        'ro', '/run/vnode/fs/pod-a/proc/sys/vm/x', '/run/vnode/i1/rootfs/c1/proc/sysx',
      ],
    });
  });

  it('adds no hook when vnodefs has nothing for it, and nothing at all without vnodefs', () => {
    const s = spec({ linux: { namespaces: [], maskedPaths: ['/proc/keys'] } });
    const plan = planSpec(input(s, { vnodefs: placement({ hookBinds: [] }) }));
    assert.equal(plan.spec.hooks, undefined);
    assert.deepEqual(plan.spec.linux!.maskedPaths, ['/proc/keys', '/proc/kcore']);
    const none = planSpec(input(s));
    assert.equal(none.spec.hooks, undefined);
    assert.deepEqual(none.spec.linux!.maskedPaths, ['/proc/keys']);
    assert.ok(!none.spec.mounts!.some((m) => m.destination === '/proc/meminfo'));
  });

  it('clamps a negative oomScoreAdj and keeps a positive one', () => {
    assert.equal(planSpec(input(spec())).spec.process!.oomScoreAdj, 0);
    const s = spec({ process: { user: { uid: 0, gid: 0 }, args: ['sh'], cwd: '/', oomScoreAdj: 500 } });
    assert.equal(planSpec(input(s)).spec.process!.oomScoreAdj, 500);
  });

  it('plans an exec process: the requested terminal, oomScoreAdj clamped, args required', () => {
    const given = { args: ['sh', '-c', 'true'], cwd: '/', terminal: false, oomScoreAdj: -999, env: ['A=1'] };
    const p = planExecProcess(given, true);
    assert.deepEqual(p, { args: ['sh', '-c', 'true'], cwd: '/', terminal: true, oomScoreAdj: 0, env: ['A=1'] });
    assert.equal(given.oomScoreAdj, -999, 'the input is not modified');
    assert.equal(planExecProcess({ args: ['x'], oomScoreAdj: 100 }, false).oomScoreAdj, 100);
    assert.equal(planExecProcess({ args: ['x'] }, false).oomScoreAdj, undefined);
    // an exec into a container in the vNode's UTS namespace gets the vNode's HOSTNAME
    assert.deepEqual(planExecProcess({ args: ['x'], env: ['A=1', 'HOSTNAME=the-host'] }, false, 'ns-a').env, ['A=1', 'HOSTNAME=ns-a']);
    assert.deepEqual(planExecProcess({ args: ['x'], env: ['HOSTNAME=the-host'] }, false).env, ['HOSTNAME=the-host']);
    assert.throws(() => planExecProcess({ cwd: '/' }, false), (e: unknown) => e instanceof InvalidSpecError && /the process spec has no args/.test((e as Error).message));
    assert.throws(() => planExecProcess({ args: [] }, false), /has no args/);
    assert.throws(() => planExecProcess(null, false), InvalidSpecError);
    assert.throws(() => planExecProcess(['sh'], false), InvalidSpecError);
  });

  it('does not modify its input', () => {
    const s = spec();
    const before = JSON.stringify(s);
    planSpec(input(s));
    assert.equal(JSON.stringify(s), before);
  });
});

describe('recursive read-only mounts', () => {
  it('turns "rro" into "ro" for the runtime and adds the vnode-bind hook that makes the mount tree read-only', () => {
    const s = spec({ mounts: [{ destination: '/data', type: 'bind', source: '/var/lib/kubelet/pods/u/volumes/v', options: ['rbind', 'rprivate', 'rro'] }, { destination: '/plain', type: 'bind', source: '/srv', options: ['rbind', 'ro'] }] });
    const plan = planSpec(input(s, { bindHelper: '/opt/vnode/vnode-bind' }));
    const data = plan.spec.mounts!.find((m) => m.destination === '/data')!;
    assert.ok(data.options!.includes('ro') && !data.options!.includes('rro'), `options ${data.options}`);
    const hooks = (plan.spec.hooks as Record<string, { path: string; args: string[] }[]>).createContainer!;
    assert.deepEqual(hooks.at(-1), { path: '/opt/vnode/vnode-bind', args: ['vnode-bind', 'rro', '-', '/run/vnode/i1/rootfs/c1/data'] });
    assert.equal(hooks.length, 1, 'one hook; /plain is a plain ro mount');
  });

  it('adds no hook without rro, refuses rro with rw, and needs the helper', () => {
    assert.equal(planSpec(input(spec(), { bindHelper: '/x' })).spec.hooks, undefined);
    const both = spec({ mounts: [{ destination: '/d', type: 'bind', source: '/srv', options: ['rbind', 'rw', 'rro'] }] });
    assert.throws(() => planSpec(input(both, { bindHelper: '/x' })), InvalidSpecError);
    const rro = spec({ mounts: [{ destination: '/d', type: 'bind', source: '/srv', options: ['rbind', 'rro'] }] });
    assert.throws(() => planSpec(input(rro)), /vnode-bind helper/);
  });
});

describe('parseSpec', () => {
  it('explains what is wrong with a malformed spec', () => {
    assert.throws(() => parseSpec('{', 'config.json'), /config.json: not valid JSON/);
    assert.throws(() => parseSpec('[]', 'config.json'), /must be a JSON object/);
    assert.throws(() => parseSpec('{"ociVersion":"1","root":{"path":"r"}}', 'config.json'), /process.args/);
    assert.throws(() => parseSpec('{"ociVersion":"1","process":{"args":["sh"]}}', 'config.json'), /root.path/);
  });
});
