// The private containerd's config: version 2 tables for 1.6/1.7, version 3 for 2.x, with the
// keys ENVIRONMENT.md names. Round-trips through smol-toml. No root, no containerd.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, stringify } from 'smol-toml';
import { buildConfig } from '../../support/containerd.js';
import { PAUSE_IMAGE } from '../../support/images.js';

const paths = {
  root: '/t/root', state: '/t/state', address: '/t/c.sock', ttrpcAddress: '/t/c.sock.ttrpc', cniConfDir: '/t/cni/net.d',
  runcRoot: '/t/runc', dir: '/t', logLevel: 'info',
};

test('config version 2 (containerd 1.6 / 1.7)', () => {
  for (const v of ['1.6', '1.7'] as const) {
    const cfg = parse(stringify(buildConfig(v, paths))) as any;
    assert.equal(cfg.version, 2);
    assert.equal(cfg.grpc.address, '/t/c.sock');
    assert.equal(cfg.ttrpc.address, '/t/c.sock.ttrpc');
    const cri = cfg.plugins['io.containerd.grpc.v1.cri'];
    assert.equal(cri.restrict_oom_score_adj, true);
    assert.equal(cri.sandbox_image, PAUSE_IMAGE);
    assert.equal(cri.netns_mounts_under_state_dir, true);
    assert.equal(cri.stream_server_port, '0');
    assert.deepEqual({ ...cri.cni }, { bin_dir: '/usr/lib/cni', conf_dir: '/t/cni/net.d', max_conf_num: 1 });
    assert.equal(cri.containerd.runtimes.runc.runtime_type, 'io.containerd.runc.v2');
    assert.deepEqual({ ...cri.containerd.runtimes.runc.options }, { SystemdCgroup: false, Root: '/t/runc' });
    assert.equal(cri.containerd.runtimes.vnode.runtime_type, 'io.containerd.vnode.v2');
    assert.equal(cfg.plugins['io.containerd.nri.v1.nri'].disable, true);
  }
});

test('config version 3 (containerd 2.x)', () => {
  const cfg = parse(stringify(buildConfig('2', paths))) as any;
  assert.equal(cfg.version, 3);
  assert.equal(cfg.plugins['io.containerd.cri.v1.images'].pinned_images.sandbox, PAUSE_IMAGE);
  const rt = cfg.plugins['io.containerd.cri.v1.runtime'];
  assert.equal(rt.restrict_oom_score_adj, true);
  assert.equal(rt.netns_mounts_under_state_dir, true);
  assert.deepEqual([...rt.cni.bin_dirs], ['/usr/lib/cni']);
  assert.equal(rt.containerd.runtimes.vnode.runtime_type, 'io.containerd.vnode.v2');
  assert.equal(rt.containerd.runtimes.runc.options.SystemdCgroup, false);
  assert.equal(cfg.plugins['io.containerd.grpc.v1.cri'].stream_server_port, '0');
  assert.equal(cfg.plugins['io.containerd.grpc.v1.cri'].sandbox_image, undefined);
  assert.equal(cfg.plugins['io.containerd.nri.v1.nri'].disable, true);
});
