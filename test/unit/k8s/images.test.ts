// The OCI archive writer: a tar that `tar` reads, with an index naming the image and blobs
// whose digests match their content. No root, no containerd.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { buildOciArchive } from '../../support/images.js';
import { buildTar, listTar } from '../../../src/oci/image-tar.js';

test('tar writer: GNU tar lists files, dirs, symlinks, long paths, modes', () => {
  const long = `${'d'.repeat(90)}/${'e'.repeat(60)}/file`;
  const archive = buildTar([
    { type: 'dir', path: 'bin' },
    { type: 'file', path: 'bin/busybox', data: Buffer.alloc(1000, 1), mode: 0o755 },
    { type: 'symlink', path: 'bin/sh', target: '/bin/busybox' },
    { type: 'dir', path: 'tmp', mode: 0o1777 },
    { type: 'file', path: long, data: 'x', uid: 65534, gid: 65534 },
  ]);
  assert.equal(archive.length % 512, 0);
  const dir = mkdtempSync(join(tmpdir(), 'vnode-tar-'));
  try {
    writeFileSync(join(dir, 'a.tar'), archive);
    const out = execFileSync('tar', ['-tvf', join(dir, 'a.tar'), '--numeric-owner'], { encoding: 'utf8' });
    assert.match(out, /^-rwxr-xr-x 0\/0\s+1000 .* bin\/busybox$/m);
    assert.match(out, /^lrwxrwxrwx 0\/0\s+0 .* bin\/sh -> \/bin\/busybox$/m);
    assert.match(out, /^drwxrwxrwt 0\/0\s+0 .* tmp\/$/m);
    assert.ok(out.includes(`65534/65534`) && out.includes(long), out);
  } finally { rmSync(dir, { recursive: true, force: true }); }
  assert.deepEqual(listTar(archive).map((e) => e.path), ['bin/', 'bin/busybox', 'bin/sh', 'tmp/', long]);
});

test('OCI layout: index names the image, digests and diff_id match', () => {
  const { archive, manifestDigest, configDigest, diffId } = buildOciArchive({
    ref: 'localhost/t/img:1', layer: [{ type: 'file', path: 'hello', data: 'hi' }], entrypoint: ['/hello'],
  });
  const files = new Map<string, Buffer>();
  let off = 0;
  for (const e of listTar(archive)) {
    off += 512;
    files.set(e.path, archive.subarray(off, off + e.size));
    off += Math.ceil(e.size / 512) * 512;
  }
  const sha = (b: Buffer) => 'sha256:' + createHash('sha256').update(b).digest('hex');
  assert.deepEqual(JSON.parse(files.get('oci-layout')!.toString()), { imageLayoutVersion: '1.0.0' });
  const index = JSON.parse(files.get('index.json')!.toString());
  assert.equal(index.manifests[0].digest, manifestDigest);
  assert.equal(index.manifests[0].annotations['io.containerd.image.name'], 'localhost/t/img:1');
  assert.equal(index.manifests[0].annotations['org.opencontainers.image.ref.name'], '1');
  for (const [path, data] of files) if (path.startsWith('blobs/sha256/') && data.length) assert.equal(sha(data), `sha256:${path.slice(13)}`);
  const manifest = JSON.parse(files.get(`blobs/sha256/${manifestDigest.slice(7)}`)!.toString());
  assert.equal(manifest.config.digest, configDigest);
  const layer = files.get(`blobs/sha256/${manifest.layers[0].digest.slice(7)}`)!;
  assert.equal(sha(gunzipSync(layer)), diffId);
  const config = JSON.parse(files.get(`blobs/sha256/${configDigest.slice(7)}`)!.toString());
  assert.deepEqual(config.rootfs.diff_ids, [diffId]);
  assert.deepEqual(config.config.Entrypoint, ['/hello']);
  // reproducible
  assert.equal(buildOciArchive({ ref: 'localhost/t/img:1', layer: [{ type: 'file', path: 'hello', data: 'hi' }], entrypoint: ['/hello'] }).manifestDigest, manifestDigest);
  void readFileSync;
});
