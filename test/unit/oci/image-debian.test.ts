// The pure parts of the Debian workload images: which mirror debootstrap uses (the host's apt
// sources, deb822 or one-line, never the security archive) and the docker-load manifest.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hostDebianMirror } from '../../../src/oci/index.js';
import { dockerManifest } from '../../../src/oci/image-archive.js';

function withRoot(files: Record<string, string>, fn: (root: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'vnode-mirror-'));
  try {
    for (const [p, text] of Object.entries(files)) {
      mkdirSync(join(root, p, '..'), { recursive: true });
      writeFileSync(join(root, p), text);
    }
    fn(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('the mirror comes from deb822 sources, skipping the security archive', () => {
  withRoot({
    'etc/apt/sources.list.d/debian.sources': 'Types: deb\nURIs: http://security.debian.org/debian-security\nSuites: bookworm-security\n\nTypes: deb\nURIs: http://mirror.example/debian\nSuites: bookworm\n',
  }, (root) => assert.equal(hostDebianMirror(root), 'http://mirror.example/debian'));
});

test('the mirror comes from a one-line sources.list when there is no deb822 file', () => {
  withRoot({
    'etc/apt/sources.list': '# comment\ndeb http://security.debian.org/ bookworm-security main\ndeb [arch=amd64] https://m.example/debian bookworm main\n',
  }, (root) => assert.equal(hostDebianMirror(root), 'https://m.example/debian'));
});

test('without apt sources, deb.debian.org', () => {
  withRoot({}, (root) => assert.equal(hostDebianMirror(root), 'http://deb.debian.org/debian'));
});

test("docker load's manifest names the config and layers by their blob paths", () => {
  assert.deepEqual(dockerManifest('docker.io/library/busybox:latest', 'sha256:aa', ['sha256:bb', 'sha256:cc']), [
    { Config: 'blobs/sha256/aa', RepoTags: ['docker.io/library/busybox:latest'], Layers: ['blobs/sha256/bb', 'blobs/sha256/cc'] },
  ]);
});
