// Why install edits the config in place instead of adding an `imports` drop-in, checked
// with the real containerd 1.6, 1.7 and 2.x (`containerd --config FILE config dump`, no
// daemon): 1.x replaces the main file's whole CRI plugin table with an imported one (the
// sandbox image, registry mirrors and runc's SystemdCgroup are lost), 2.x merges deeply.
// And the block install appends: containerd's own dump of the edited file has the vnode
// runtime with everything else as it was.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { availableContainerdVersions, containerdBinDir, type ContainerdVersion } from '../../support/containerd.js';
import { applyBlock, renderBlock } from '../../../src/install/index.js';

const V2 = `version = 2
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "registry.example/pause:9.9"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      SystemdCgroup = true
  [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
    endpoint = ["https://mirror.example.internal"]
`;
const V3 = `version = 3
[plugins.'io.containerd.cri.v1.images'.pinned_images]
  sandbox = 'registry.example/pause:9.9'
[plugins.'io.containerd.cri.v1.images'.registry]
  config_path = '/etc/containerd/certs.d.example'
[plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
  runtime_type = 'io.containerd.runc.v2'
  [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
    SystemdCgroup = true
`;
const table = { runtime_type: 'io.containerd.vnode.v2', runtime_path: '/opt/vnode/bin/containerd-shim-vnode-v2', cni_conf_dir: '/opt/vnode/etc/cni/net.d', cni_max_conf_num: 1 };

function dump(version: ContainerdVersion, config: string): string {
  return execFileSync(join(containerdBinDir(version), 'containerd'), ['--config', config, 'config', 'dump'], { encoding: 'utf8' });
}

describe('containerd config: imports vs the in-place block', () => {
  for (const version of availableContainerdVersions()) {
    const format = version === '2' ? 3 : 2;
    const main = format === 3 ? V3 : V2;
    const kept = format === 3 ? [/sandbox = 'registry\.example\/pause:9\.9'/, /config_path = '\/etc\/containerd\/certs\.d\.example'/] : [/sandbox_image = "registry\.example\/pause:9\.9"/, /mirror\.example\.internal/];
    it(`containerd ${version}: ${version === '2' ? 'an import merges deeply' : 'an import replaces the CRI table'}; the appended block keeps everything`, () => {
      const dir = mkdtempSync(join(tmpdir(), 'vnode-imports-'));
      try {
        const drop = join(dir, 'vnode.toml');
        writeFileSync(drop, `version = ${format}\n${renderBlock(format, table)}`);
        writeFileSync(join(dir, 'main.toml'), main.replace(`version = ${format}\n`, `version = ${format}\nimports = ["${drop}"]\n`));
        const imported = dump(version, join(dir, 'main.toml'));
        assert.match(imported, /runtimes\.vnode\]/);
        for (const re of kept) {
          if (version === '2') assert.match(imported, re, 'containerd 2.x keeps the main file\'s settings');
          else assert.doesNotMatch(imported, re, `containerd ${version} drops the main file's CRI settings when an import defines the CRI table`);
        }
        assert.equal(/SystemdCgroup = true/.test(imported), version === '2');

        writeFileSync(join(dir, 'edited.toml'), applyBlock(main, renderBlock(format, table)));
        const edited = dump(version, join(dir, 'edited.toml'));
        assert.match(edited, /runtimes\.vnode\]/);
        assert.match(edited, /runtime_path = ["']\/opt\/vnode\/bin\/containerd-shim-vnode-v2["']/);
        assert.match(edited, /cni_conf_dir = ["']\/opt\/vnode\/etc\/cni\/net\.d["']/);
        for (const re of kept) assert.match(edited, re);
        assert.match(edited, /SystemdCgroup = true/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
