import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseArgs, UsageError } from '../../../src/shim/args.js';
import { instanceId, managerInstance } from '../../../src/shim/instance.js';

test('containerd 1.7 start command line', () => {
  const a = parseArgs(
    ['-namespace', 'k8s.io', '-address', '/run/containerd/containerd.sock', '-publish-binary', '/usr/bin/containerd', '-id', 'abc', 'start'],
    { TTRPC_ADDRESS: '/run/containerd/containerd.sock.ttrpc' },
    '/bundle',
  );
  assert.equal(a.action, 'start');
  assert.equal(a.namespace, 'k8s.io');
  assert.equal(a.address, '/run/containerd/containerd.sock');
  assert.equal(a.ttrpcAddress, '/run/containerd/containerd.sock.ttrpc');
  assert.equal(a.id, 'abc');
  assert.equal(a.bundle, '/bundle', 'start runs in the bundle directory');
  assert.equal(a.debug, false);
});

test('containerd 2.x delete with -bundle and -debug; env fallbacks', () => {
  const a = parseArgs(['-namespace', 'default', '-address', '/c.sock', '-publish-binary', '/bin/c', '-id', 'x', '-bundle', '/b/x', '-debug', 'delete'], {
    MAX_SHIM_VERSION: '2',
  });
  assert.equal(a.action, 'delete');
  assert.equal(a.bundle, '/b/x');
  assert.equal(a.debug, true);
  assert.equal(a.ttrpcAddress, '/c.sock.ttrpc', 'defaults to <address>.ttrpc');
  assert.equal(a.maxShimVersion, 2);
  const b = parseArgs(['--id=y', 'start'], { GRPC_ADDRESS: '/g.sock', NAMESPACE: 'ns' });
  assert.equal(b.id, 'y');
  assert.equal(b.address, '/g.sock');
  assert.equal(b.namespace, 'ns');
});

test('-v, missing flag value', () => {
  assert.equal(parseArgs(['-v']).version, true);
  assert.throws(() => parseArgs(['-id']), UsageError);
});

test('instance ids: stable, distinct per containerd address, unix:// and relative forms normalised', () => {
  assert.equal(instanceId('/run/containerd/containerd.sock'), instanceId('unix:///run/containerd/containerd.sock'));
  assert.notEqual(instanceId('/tmp/a/containerd.sock'), instanceId('/tmp/b/containerd.sock'));
  assert.match(instanceId('/x'), /^[0-9a-f]{12}$/);
  const i = managerInstance('/tmp/a/containerd.sock', { VNODE_RUN_DIR: '/tmp/rd' });
  assert.equal(i.socket, `/tmp/rd/${i.id}/manager.sock`);
  assert.ok(i.lockName.startsWith('\0'));
  assert.notEqual(i.lockName, managerInstance('/tmp/b/containerd.sock', { VNODE_RUN_DIR: '/tmp/rd' }).lockName);
  assert.equal(managerInstance('/x', {}).dir.startsWith('/run/vnode/'), true);
});

test('-info prints a RuntimeInfo with the options from stdin echoed', async () => {
  const { runtimeInfo } = await import('../../../src/shim/info.js');
  const { decode, encode } = await import('../../../src/proto/index.js');
  assert.equal(parseArgs(['-info']).info, true);
  const opts = encode('google.protobuf.Any', { typeUrl: 'containerd.runc.v1.Options', value: new Uint8Array([0x32, 0x01, 0x78]) });
  const info = decode<{ name: string; version?: { version: string }; options?: { typeUrl: string } }>('containerd.types.RuntimeInfo', runtimeInfo(opts, '9.9'));
  assert.equal(info.name, 'io.containerd.vnode.v2');
  assert.equal(info.version!.version, '9.9');
  assert.equal(info.options!.typeUrl, 'containerd.runc.v1.Options');
  // name = 1 (string), version = 2 (message): first bytes of the encoding
  assert.equal(Buffer.from(runtimeInfo(new Uint8Array(), '1')).toString('hex').slice(0, 4), '0a16');
});
