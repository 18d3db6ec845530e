// Bad input gets a clear error that says what and why, through CRI or the Task API,
// and nothing leaks: no task state, vNode, ID range or mount is left, and what ran
// before keeps running.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RUNC_OPTIONS, packAny } from '../../../src/proto/index.js';
import { taskClient, type TaskClient } from '../../../src/taskapi/index.js';
import { Code, RpcError, TtrpcClient } from '../../../src/ttrpc/index.js';
import { availableContainerdVersions, startContainerd, type ContainerdInstance } from '../../support/containerd.js';
import { criEnv, CriError, TestPod, waitFor, type CriEnv } from '../../support/cri.js';
import { mountsBelow, taskStateFiles, vnodeRecords } from '../../support/vnode-host.js';

const version = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',')[0] ?? (availableContainerdVersions().includes('2') ? '2' : '1.7')) as '2' | '1.7';
const repo = join(import.meta.dirname, '../../..');

describe(`an exhausted ID pool (containerd ${version})`, () => {
  let ctd: ContainerdInstance;
  let env: CriEnv;
  before(async () => {
    // room for exactly one vNode
    ctd = await startContainerd({ version, env: { VNODE_ID_POOL: '3221225472-3221291007', VNODE_ID_POOL_DIR: join(tmpdir(), `vnode-pool-${process.pid}`) } });
    env = criEnv(ctd, 'vnode');
  });
  after(async () => {
    await ctd?.stop();
    rmSync(join(tmpdir(), `vnode-pool-${process.pid}`), { recursive: true, force: true });
  });

  it('refuses the second vNode with a clear error and keeps the first one working', async () => {
    const first = await TestPod.run(env, { namespace: 'first' });
    try {
      const cid = await first.runContainer({ name: 'main', command: ['sleep', '3600'] });
      await first.waitForState(cid, 'CONTAINER_RUNNING');
      await assert.rejects(TestPod.run(env, { namespace: 'second' }), (e: unknown) => {
        assert.ok(e instanceof CriError);
        assert.match(e.details, /no free ID range: all 1 ranges of 65536 IDs in VNODE_ID_POOL=3221225472-3221291007 are taken by live vNodes/);
        return true;
      });
      assert.deepEqual(vnodeRecords(ctd).map((r) => r.key), ['ns/first']);
      const r = await env.cri.execSync(cid, ['id', '-u'], 10);
      assert.equal(r.stdout.toString(), '0\n', 'the existing vNode still works');
    } finally {
      await first.remove();
    }
    // once the first vNode is gone, its range serves a new one
    const second = await TestPod.run(env, { namespace: 'second' });
    await second.remove();
    assert.deepEqual(vnodeRecords(ctd), []);
  });
});

describe(`tasks without CRI (ctr run --runtime io.containerd.vnode.v2, containerd ${version})`, () => {
  let ctd: ContainerdInstance;
  before(async () => {
    ctd = await startContainerd({ version });
  });
  after(async () => {
    await ctd?.stop();
  });

  it('runs in a vNode of the containerd namespace', async () => {
    const out = await ctd.ctr('-n', 'k8s.io', 'run', '--rm', '--runtime', 'io.containerd.vnode.v2', ctd.images.busybox, 'ctr-task', 'sh', '-c', 'id -u; cat /proc/self/uid_map');
    const [uid, map] = out.trim().split('\n');
    assert.equal(uid, '0');
    assert.ok(Number(map!.trim().split(/\s+/)[1]) >= 65536, map);
    await waitFor('vNode removed with its task', () => vnodeRecords(ctd).length === 0, 10_000);
    assert.deepEqual(taskStateFiles(ctd), []);
  });
});

describe('the Task API refuses bad bundles and options', () => {
  let dir: string;
  let manager: ChildProcess;
  let client: TtrpcClient;
  let tasks: TaskClient;
  let socket: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'vnode-bad-'));
    const runDir = join(dir, 'run');
    socket = join(runDir, 'inst', 'manager.sock');
    mkdirSync(join(runDir, 'inst'), { recursive: true });
    manager = spawn(process.execPath, [join(repo, 'bin/vnode-manager')], {
      // no vnodefs: this manager is killed at the end, and what it served would hang the cleanup
      env: { ...process.env, VNODE_MANAGER_SOCKET: socket, VNODE_CONTAINERD_TTRPC_ADDRESS: join(dir, 'no-containerd.sock'), VNODE_DATA_DIR: join(dir, 'data'), VNODE_VNODEFS: 'false' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    client = new TtrpcClient(socket, { connectTimeoutMs: 1000 });
    tasks = taskClient(client, 'bad-input');
    await waitFor('manager socket', async () => {
      try {
        await tasks.connect({ id: 'x' });
        return true;
      } catch {
        return false;
      }
    }, 15_000);
    // a tiny root filesystem and a valid spec to break piece by piece
    mkdirSync(join(dir, 'rootfs/bin'), { recursive: true });
    copyFileSync('/bin/busybox', join(dir, 'rootfs/bin/busybox'));
    symlinkSync('busybox', join(dir, 'rootfs/bin/sh'));
    for (const d of ['proc', 'sys', 'dev', 'tmp']) mkdirSync(join(dir, 'rootfs', d));
  });
  after(async () => {
    client?.close();
    if (manager && manager.exitCode === null) {
      const exited = new Promise((r) => manager.once('exit', r));
      manager.kill('SIGKILL');
      await exited;
    }
    // the connection holder exits by itself once its manager is gone and it holds nothing
    // vnode-hold may still be rewriting its list as it notices the manager is gone
    rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  });

  function bundle(name: string, config: string | object): string {
    const b = join(dir, 'bundles', name);
    mkdirSync(b, { recursive: true });
    writeFileSync(join(b, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
    return b;
  }
  const spec = () => ({
    ociVersion: '1.0.2',
    process: { user: { uid: 0, gid: 0 }, args: ['sh', '-c', 'exit 0'], cwd: '/', env: ['PATH=/bin'] },
    root: { path: join(dir, 'rootfs') },
    mounts: [{ destination: '/proc', type: 'proc', source: 'proc' }],
    linux: { namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }] },
  });
  const create = (id: string, b: string, extra: Record<string, unknown> = {}) =>
    tasks.create({ id, bundle: b, rootfs: [], terminal: false, stdin: '', stdout: '', stderr: '', checkpoint: '', parentCheckpoint: '', oomPath: '', ...extra } as never);

  async function refused(p: Promise<unknown>, code: Code, message: RegExp): Promise<void> {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof RpcError, String(e));
      assert.equal(e.code, code, e.message);
      assert.match(e.message, message);
      return true;
    });
  }

  function assertNothingLeft(): void {
    const inst = join(dir, 'run', 'inst');
    assert.deepEqual(mountsBelow(inst), []);
    assert.deepEqual(mountsBelow(join(dir, 'data')), []);
    for (const sub of ['state/tasks', 'state/vnodes', 'mounts/bad-input']) {
      const d = join(inst, sub);
      let left: string[] = [];
      try {
        left = readdirSync(d);
      } catch {
        /* never created */
      }
      assert.deepEqual(left, [], `${sub} is empty`);
    }
  }

  it('a malformed config.json', async () => {
    await refused(create('bad-json', bundle('bad-json', '{"ociVersion": ')), Code.InvalidArgument, /config.json: not valid JSON/);
    await refused(create('no-args', bundle('no-args', { ...spec(), process: { user: { uid: 0, gid: 0 }, cwd: '/' } })), Code.InvalidArgument, /"process.args" must name the program to run/);
    await refused(create('no-bundle', join(dir, 'bundles', 'does-not-exist')), Code.InvalidArgument, /cannot read .*does-not-exist\/config.json/);
    assertNothingLeft();
  });

  it('an unknown runtime option type, and a runtime binary that does not exist', async () => {
    await refused(create('opt', bundle('opt', spec()), { options: { typeUrl: 'example.com/unknown.Options', value: new Uint8Array([8, 1]) } }), Code.InvalidArgument, /unknown runtime options type "example.com\/unknown.Options"/);
    const missing = packAny(RUNC_OPTIONS, { binaryName: '/nonexistent/runc' });
    await refused(create('nobin', bundle('nobin', spec()), { options: missing }), Code.FailedPrecondition, /OCI runtime "\/nonexistent\/runc".* not found/);
    assertNothingLeft();
  });

  it('a stdout FIFO that went away', async () => {
    await refused(create('fifo', bundle('fifo', spec()), { stdout: join(dir, 'gone', 'stdout') }), Code.FailedPrecondition, /cannot open stdout FIFO .*gone\/stdout/);
    assertNothingLeft();
  });

  it('an unknown task', async () => {
    await refused(tasks.state({ id: 'nope', execId: '' }), Code.NotFound, /task nope not found/);
    await refused(tasks.start({ id: 'nope', execId: '' }), Code.NotFound, /task nope not found/);
  });
});

