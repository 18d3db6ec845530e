import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  BLOCK_BEGIN, InstallError, applyBlock, configFormat, nodeCriSettings, parseConfig, removeBlock, renderBlock, verifyEdit,
} from '../../../src/install/index.js';

const V2 = `# kubeadm-like containerd 1.7 config
version = 2

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "registry.k8s.io/pause:3.9"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          SystemdCgroup = true   # cgroupDriver: systemd
    [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
      endpoint = ["https://mirror.gcr.io"]`; // no final newline on purpose

const V3 = `version = 3
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = 'io.containerd.runc.v2'
[plugins.'io.containerd.cri.v1.runtime'.cni]
  bin_dirs = ['/opt/cni/bin', '/usr/lib/cni']
  conf_dir = '/etc/cni/net.d'
`;

const table = { runtime_type: 'io.containerd.vnode.v2', runtime_path: '/opt/vnode/bin/containerd-shim-vnode-v2', cni_conf_dir: '/opt/vnode/etc/cni/net.d', cni_max_conf_num: 1, options: { SystemdCgroup: true } };

describe('containerd config edit', () => {
  it('version 2: appends one marked block; the original bytes stay a prefix and the meaning only gains runtimes.vnode', () => {
    const out = applyBlock(V2, renderBlock(2, table));
    assert.ok(out.startsWith(V2 + '\n\n' + BLOCK_BEGIN));
    verifyEdit(parseConfig(V2, 'c'), out, 2, table, 'c');
    const c = parseConfig(out, 'c');
    assert.deepEqual(c['plugins']['io.containerd.grpc.v1.cri'].containerd.runtimes.vnode, table);
    assert.equal(c['plugins']['io.containerd.grpc.v1.cri'].registry.mirrors['docker.io'].endpoint[0], 'https://mirror.gcr.io');
    assert.equal(removeBlock(out), V2 + '\n', 'removing the block leaves the original text (plus the newline that ended it)');
  });

  it('version 3: the io.containerd.cri.v1.runtime table, single-quoted as containerd 2.x writes it', () => {
    const block = renderBlock(3, table);
    assert.match(block, /^\[plugins\.'io\.containerd\.cri\.v1\.runtime'\.containerd\.runtimes\.vnode\]$/m);
    const out = applyBlock(V3, block);
    verifyEdit(parseConfig(V3, 'c'), out, 3, table, 'c');
    assert.equal(removeBlock(out), V3);
  });

  it('a second apply with the same block changes nothing; a different block replaces it in place', () => {
    const once = applyBlock(V3, renderBlock(3, table));
    assert.equal(applyBlock(once, renderBlock(3, table)), once);
    const other = applyBlock(once, renderBlock(3, { ...table, cni_conf_dir: '/x' }));
    assert.equal(other.split(BLOCK_BEGIN).length, 2, 'still one block');
    assert.match(other, /cni_conf_dir = "\/x"/);
  });

  it('refuses a config where the vnode table cannot be added (inline runtimes table)', () => {
    const inline = `version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n  runtimes = { runc = { runtime_type = "io.containerd.runc.v2" } }\n`;
    const out = applyBlock(inline, renderBlock(2, table));
    assert.throws(() => verifyEdit(parseConfig(inline, 'c'), out, 2, table, 'c'), (e: InstallError) => e.code === 'CONFIG_EDIT');
  });

  it('refuses TOML that does not parse, a v1 config, an unknown version, and v3 for containerd 1.x', () => {
    assert.throws(() => parseConfig('version = 2\n[plugins\n', '/etc/containerd/config.toml'), (e: InstallError) => e.code === 'CONFIG_PARSE' && /not valid TOML/.test(e.message) && e.exitCode === 2);
    assert.throws(() => configFormat({ plugins: {} }, 1, 'c'), (e: InstallError) => e.code === 'CONFIG_VERSION' && /version 1/.test(e.message));
    assert.throws(() => configFormat({ version: 4 }, 2, 'c'), (e: InstallError) => e.code === 'CONFIG_VERSION' && /version = 4/.test(e.message));
    assert.throws(() => configFormat({ version: 3 }, 1, 'c'), (e: InstallError) => e.code === 'CONFIG_VERSION');
    assert.equal(configFormat({ version: 2 }, 2, 'c'), 2, 'containerd 2.x reads version 2: keep the file in its own format');
    assert.equal(configFormat(undefined, 2, 'c'), 3);
    assert.equal(configFormat(undefined, 1, 'c'), 2);
  });

  it('takes the cgroup driver from the default runtime and the CNI dirs from either format', () => {
    const s2 = nodeCriSettings(parseConfig(V2, 'c'), 2);
    assert.equal(s2.systemdCgroup, true);
    assert.equal(s2.cniConfDir, '/etc/cni/net.d');
    assert.deepEqual(s2.cniBinDirs, ['/opt/cni/bin']);
    const s3 = nodeCriSettings(parseConfig(V3, 'c'), 3);
    assert.equal(s3.systemdCgroup, false);
    assert.deepEqual(s3.cniBinDirs, ['/opt/cni/bin', '/usr/lib/cni']);
    const custom = nodeCriSettings(parseConfig(`version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd]\n default_runtime_name = "crun"\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun.options]\n SystemdCgroup = true\n`, 'c'), 2);
    assert.equal(custom.defaultRuntime, 'crun');
    assert.equal(custom.systemdCgroup, true);
  });
});
