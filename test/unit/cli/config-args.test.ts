import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse, stringify } from 'smol-toml';
import { cniConflist, containerdConfig, localPaths } from '../../../src/cli/containerd-local.js';
import { UsageError } from '../../../src/cli/errors.js';
import { isBusyboxRef } from '../../../src/cli/images.js';
import { parsePodManifest } from '../../../src/cli/manifest.js';
import { interactiveContainer, parseRunArgs } from '../../../src/cli/run.js';

describe('vnode\'s own containerd: paths and config', () => {
  it('default paths, and private ones under VNODE_RUN_DIR / VNODE_DATA_DIR', () => {
    const d = localPaths({});
    assert.equal(d.socket, '/run/vnode/containerd/containerd.sock');
    assert.equal(d.config, '/var/lib/vnode/containerd/config.toml');
    assert.equal(d.root, '/var/lib/vnode/containerd/root');
    assert.equal(d.bridge, 'vnode0');
    assert.equal(d.cgroupParent, '/vnode-local');
    const p = localPaths({ VNODE_RUN_DIR: '/tmp/r', VNODE_DATA_DIR: '/tmp/d' });
    assert.equal(p.socket, '/tmp/r/containerd/containerd.sock');
    assert.equal(p.state, '/tmp/r/containerd/state');
    assert.equal(p.root, '/tmp/d/containerd/root');
    assert.match(p.bridge, /^vn[0-9a-f]{8}$/);
    assert.ok(p.bridge.length <= 15, 'fits IFNAMSIZ');
    assert.match(p.cgroupParent, /^\/vnode-local-[0-9a-f]{8}$/);
  });

  it('containerd 2.x: config version 3 with the CRI settings ENVIRONMENT.md asks for', () => {
    const paths = localPaths({});
    const c = parse(stringify(containerdConfig({ paths, major: 2, subnet: '10.200.1.0/24' }))) as Record<string, any>;
    assert.equal(c['version'], 3);
    assert.equal(c['grpc']['address'], paths.socket);
    const rt = c['plugins']['io.containerd.cri.v1.runtime'];
    assert.equal(rt['restrict_oom_score_adj'], true);
    assert.equal(rt['cni']['conf_dir'], paths.cniConfDir);
    assert.equal(rt['containerd']['default_runtime_name'], 'vnode');
    // declared so that containerd 2.1–2.3 introspect its features (docs/runtime.md)
    assert.equal(rt['containerd']['runtimes']['vnode']['runtime_type'], 'io.containerd.runc.v2');
    assert.match(rt['containerd']['runtimes']['vnode']['runtime_path'], /\/bin\/containerd-shim-vnode-v2$/);
    assert.equal(c['plugins']['io.containerd.cri.v1.images']['pinned_images']['sandbox'], 'localhost/vnode/pause:3.9');
  });

  it('containerd 1.7: config version 2', () => {
    const c = containerdConfig({ paths: localPaths({}), major: 1, subnet: '10.200.1.0/24' }) as Record<string, any>;
    assert.equal(c['version'], 2);
    const cri = c['plugins']['io.containerd.grpc.v1.cri'];
    assert.equal(cri['restrict_oom_score_adj'], true);
    assert.equal(cri['sandbox_image'], 'localhost/vnode/pause:3.9');
    assert.equal(cri['containerd']['runtimes']['vnode']['runtime_type'], 'io.containerd.vnode.v2');
  });

  it('CNI: a bridge with outbound NAT (ipMasq, as docker/kind) on the chosen subnet', () => {
    const paths = localPaths({});
    const n = cniConflist(paths, '10.201.7.0/24') as { plugins: { type: string; bridge: string; ipMasq: boolean; ipam: { ranges: { subnet: string }[][] } }[] };
    assert.equal(n.plugins[0]!.type, 'bridge');
    assert.equal(n.plugins[0]!.bridge, 'vnode0');
    assert.equal(n.plugins[0]!.ipMasq, true);
    assert.equal((n.plugins[0] as unknown as { isGateway: boolean }).isGateway, true);
    assert.equal(n.plugins[0]!.ipam.ranges[0]![0]!.subnet, '10.201.7.0/24');
    assert.deepEqual((n.plugins[0]!.ipam as unknown as { routes: unknown }).routes, [{ dst: '0.0.0.0/0' }], 'a default route, as cluster pods have');
  });
});

describe('vnode run flags', () => {
  it('parses flags', () => {
    assert.deepEqual(parseRunArgs(['pod.yaml']), { file: 'pod.yaml', detach: false, quiet: false });
    assert.deepEqual(parseRunArgs(['-d', '--containerd', '/x.sock', '--handler', 'runc', '--timeout', '1m', '-q', '-']),
      { file: '-', containerd: '/x.sock', handler: 'runc', timeoutMs: 60_000, detach: true, quiet: true });
  });
  it('usage errors', () => {
    assert.throws(() => parseRunArgs([]), (e: unknown) => e instanceof UsageError && e.message === 'vnode run: missing POD.yaml');
    assert.throws(() => parseRunArgs(['a', 'b']), /one manifest only/);
    assert.throws(() => parseRunArgs(['--bogus', 'a']), UsageError);
    assert.throws(() => parseRunArgs(['--timeout', 'x', 'a']), { message: '--timeout: invalid duration "x" (examples: 30s, 5m, 1h)' });
  });
  it('attaches stdin to the one container with stdin: true', () => {
    const mk = (cs: string) => parsePodManifest(`apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [${cs}]\n`, 'u');
    const one = mk('{name: a, image: i, stdin: true}, {name: b, image: i}');
    assert.equal(interactiveContainer(one, { detach: false })?.name, 'a');
    assert.equal(interactiveContainer(one, { detach: true }), undefined);
    assert.equal(interactiveContainer(mk('{name: a, image: i, stdin: true}, {name: b, image: i, stdin: true}'), { detach: false }), undefined);
  });
});

describe('isBusyboxRef', () => {
  it('matches Docker Hub busybox:latest only', () => {
    for (const r of ['busybox', 'busybox:latest', 'library/busybox', 'docker.io/library/busybox:latest', 'docker.io/busybox']) assert.ok(isBusyboxRef(r), r);
    for (const r of ['busybox:1.36', 'quay.io/busybox', 'localhost/busybox', 'busyboxes']) assert.ok(!isBusyboxRef(r), r);
  });
});
