import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crunAcceptsContainerd2, crunCheck, crunVersion } from '../../../src/cli/doctor-runtime.js';

const V181 = 'crun version 1.8.1\ncommit: f8a096be\nrundir: /run/crun\nspec: 1.0.0\n+SYSTEMD +SELINUX\n';
const V121 = 'crun version 1.21\ncommit: 10269840\nrundir: /run/crun\nspec: 1.0.0\n';

describe('doctor: crun', () => {
  it('reads crun --version', () => {
    assert.deepEqual(crunVersion(V181), [1, 8, 1]);
    assert.deepEqual(crunVersion(V121), [1, 21, 0]);
    assert.equal(crunVersion('runc version 1.1.5'), undefined);
  });

  it('crun < 1.9 does not accept containerd 2.x specs', () => {
    assert.equal(crunAcceptsContainerd2([1, 8, 1]), false);
    assert.equal(crunAcceptsContainerd2([1, 9, 0]), true);
    assert.equal(crunAcceptsContainerd2([1, 21, 0]), true);
    assert.equal(crunAcceptsContainerd2([2, 0, 0]), true);
  });

  it('WARNs with what to use for an old crun; notes a hybrid host with cgroup2 controllers, which the manager handles', () => {
    const old = crunCheck('/usr/bin/crun', V181, false);
    assert.equal(old.status, 'WARN');
    assert.match(old.detail, /crun 1\.8\.1 refuses containerd 2\.x's specs/);
    assert.match(old.fix!, /\.cache\/crun\/bin\/crun .*trixie's crun package/);
    assert.deepEqual(crunCheck('/c/crun', V121, true), { name: 'crun (the runtime vnode uses)', status: 'OK', detail: '/c/crun: crun 1.21 (accepts containerd 2.x\'s specs)' });
    const hybrid = crunCheck('/c/crun', V121, true, ['hugetlb']);
    assert.equal(hybrid.status, 'OK');
    assert.match(hybrid.detail, /cgroup2 hierarchy holds hugetlb, .*the vnode manager shows it an empty \/sys\/fs\/cgroup\/unified\/cgroup\.controllers/);
    assert.equal(crunCheck('/c/crun', V121, true, []).status, 'OK', 'a hybrid host whose cgroup2 holds no controllers is fine');
    assert.equal(crunCheck('/c/crun', undefined, false).status, 'WARN');
  });
});
