import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { CgroupReader, readCacheTtl } from '../../../src/cgroup/index.js';
import { ReaderView } from '../../../src/vnodefs/vnode.js';
import { V1_A } from '../../fixtures/vnodefs/fixtures.js';

test('a view renders afresh during its first second, then serves a render for the read-cache period', async () => {
  const view = new ReaderView(new CgroupReader(V1_A));
  let renders = 0;
  const render = (): Buffer => Buffer.from(`render ${++renders}\n`);
  // The runtime mounts our files, then sets the container's limits: nothing is kept yet.
  assert.equal(view.cached(7, render).toString(), 'render 1\n');
  assert.equal(view.cached(7, render).toString(), 'render 2\n');
  await sleep(1000);
  const first = view.cached(7, render).toString();
  assert.equal(view.cached(7, render).toString(), first, 'served again within the cache period');
  assert.notEqual(view.cached(8, render).toString(), first, 'each file has its own render');
  await sleep(readCacheTtl() + 20);
  assert.notEqual(view.cached(7, render).toString(), first, 're-rendered once the period is over');
});
