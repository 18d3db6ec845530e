// umountAsync / unmountAllUnderAsync (src/sys/mount.ts): real mounts, as root. The
// unmount runs on a thread of koffi's pool so that an overlay's sync on unmount does
// not stop the manager; what it does must be what the synchronous calls do.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { detachAsync, mount, mountsUnder, MS_BIND, SyscallError, umountAsync, unmountAllUnderAsync } from '../../../src/sys/index.js';

const root = mkdtempSync(join(tmpdir(), 'vnode-umount-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('unmounting off the event loop', () => {
  it('unmounts an overlay, a tmpfs and a bind below it, deepest first', async () => {
    const dir = join(root, 'tree');
    for (const d of ['lower', 'upper', 'work', 'merged']) mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, 'lower', 'f'), 'x');
    mount('overlay', join(dir, 'merged'), 'overlay', 0, `lowerdir=${join(dir, 'lower')},upperdir=${join(dir, 'upper')},workdir=${join(dir, 'work')}`);
    mkdirSync(join(dir, 'merged', 'm'));
    mount('tmpfs', join(dir, 'merged', 'm'), 'tmpfs', 0, 'size=1m');
    mkdirSync(join(dir, 'merged', 'm', 'b'));
    mount(join(dir, 'lower'), join(dir, 'merged', 'm', 'b'), null, MS_BIND);
    assert.equal(mountsUnder(dir).length, 3);
    const outcomes: Promise<boolean>[] = [];
    await unmountAllUnderAsync(dir, (done) => outcomes.push(done));
    assert.deepEqual(mountsUnder(dir), []);
    assert.deepEqual(await Promise.all(outcomes), [true, true, true], 'each umount2 ends and says it unmounted');
  });

  it('detaches the topmost of two stacked mounts and leaves the one below', async () => {
    const dir = join(root, 'stacked');
    mkdirSync(dir);
    mount('tmpfs', dir, 'tmpfs', 0, 'size=1m');
    writeFileSync(join(dir, 'below'), '');
    mount('tmpfs', dir, 'tmpfs', 0, 'size=1m');
    let done: Promise<boolean> | undefined;
    await detachAsync(dir, (d) => (done = d));
    assert.equal(await done, true);
    assert.deepEqual(mountsUnder(dir), [dir], 'the lower tmpfs is still mounted');
    await unmountAllUnderAsync(dir);
    assert.deepEqual(mountsUnder(dir), []);
  });

  it('says false for a directory that is not a mount point, and throws the errno of a bad path', async () => {
    const plain = join(root, 'plain');
    mkdirSync(plain);
    assert.equal(await umountAsync(plain), false);
    assert.equal(await umountAsync(join(root, 'missing')), false);
    await assert.rejects(umountAsync(`/${'x'.repeat(5000)}`), (e: unknown) => e instanceof SyscallError && e.syscall === 'umount2' && e.errno === 36 /* ENAMETOOLONG */);
  });
});
