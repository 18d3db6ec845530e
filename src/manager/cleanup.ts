// `containerd-shim-vnode-v2 delete`: containerd gave up on a task (its connection to
// the manager broke, or a start failed) and wants it cleaned up. If the manager
// answers, it does the work; otherwise this process does it from the state on disk.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Code, taskClient } from '../shim/index.js';
import { managerInstance } from '../shim/instance.js';
import { RpcError, TtrpcClient } from '../ttrpc/index.js';
import { umount } from '../sys/mount.js';
import { instancePaths } from './paths.js';
import { TaskService } from './service.js';
import { DEFAULT_POD_FILE_PREFIXES } from './main.js';

export async function cleanupDeadTask(o: { namespace: string; id: string; bundle: string; containerdAddress: string }): Promise<{ pid: number; exitStatus: number; exitedAt: Date }> {
  const inst = managerInstance(o.containerdAddress);
  if (existsSync(inst.socket)) {
    const client = new TtrpcClient(inst.socket, { connectTimeoutMs: 1000 });
    try {
      const tasks = taskClient(client, o.namespace);
      try {
        await tasks.kill({ id: o.id, execId: '', signal: 9, all: true }, { timeoutMs: 5000 });
      } catch (e) {
        if (!(e instanceof RpcError && e.code === Code.NotFound)) throw e;
      }
      await tasks.wait({ id: o.id, execId: '' }, { timeoutMs: 10_000 }).catch(() => undefined);
      const r = await tasks.delete({ id: o.id, execId: '' }, { timeoutMs: 10_000 });
      return { pid: r.pid, exitStatus: r.exitStatus, exitedAt: r.exitedAt ?? new Date() };
    } catch (e) {
      if (e instanceof RpcError && e.code === Code.NotFound) return gone(o.bundle);
      // the manager is not answering: fall through to the on-disk cleanup
    } finally {
      client.close();
    }
  }
  const service = new TaskService({ paths: instancePaths(inst.socket), events: { publish: () => undefined }, perPod: false, log: () => undefined, podFilePrefixes: DEFAULT_POD_FILE_PREFIXES });
  service.reload();
  const t = service.store.get(o.namespace, o.id);
  if (!t) return gone(o.bundle);
  return service.destroy(t);
}

function gone(bundle: string): { pid: number; exitStatus: number; exitedAt: Date } {
  if (bundle) umount(join(bundle, 'rootfs'));
  return { pid: 0, exitStatus: 137, exitedAt: new Date() };
}
