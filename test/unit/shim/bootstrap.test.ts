import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { majorOfVersionLine, shimProtocol, startResponse } from '../../../src/shim/bootstrap.js';

describe('shim protocol of start', () => {
  it('reads the major version from containerd --version', () => {
    assert.equal(majorOfVersionLine('containerd github.com/containerd/containerd/v2 2.1.9+unknown \n'), 2);
    assert.equal(majorOfVersionLine('containerd github.com/containerd/containerd/v2 v2.0.0 207ad711eabd375a01713109a8a197d197ff6542'), 2);
    assert.equal(majorOfVersionLine('containerd github.com/containerd/containerd 1.7.24~ds1 1.7.24~ds1-6+deb13u1'), 1);
    assert.equal(majorOfVersionLine('containerd containerd.io 1.6.33 d2d58213f83a351ca8f528a95fbd145f5654e957'), 1);
    assert.equal(majorOfVersionLine('garbage'), 0);
    assert.equal(majorOfVersionLine(''), 0);
  });

  it('prints JSON for protocol 3 and the plain address for 2', () => {
    assert.equal(startResponse('/run/vnode/abc/manager.sock', 2), 'unix:///run/vnode/abc/manager.sock');
    assert.deepEqual(JSON.parse(startResponse('/run/vnode/abc/manager.sock', 3)), { version: 3, address: 'unix:///run/vnode/abc/manager.sock', protocol: 'ttrpc' });
  });

  it('takes VNODE_SHIM_PROTOCOL over the binary, and 2 when the binary cannot tell', () => {
    assert.equal(shimProtocol('/nonexistent/containerd', { VNODE_SHIM_PROTOCOL: '3' }), 3);
    assert.equal(shimProtocol('/bin/true', { VNODE_SHIM_PROTOCOL: '2' }), 2);
    assert.equal(shimProtocol('/nonexistent/containerd', {}), 2);
    assert.equal(shimProtocol('', { VNODE_SHIM_PROTOCOL: 'x' }), 2);
  });
});
