// `containerd-shim-vnode-v2 delete`: containerd lost the task (its connection to the
// manager broke, a start failed, or it is cleaning up after a restart) and asks for a
// final cleanup; the shim prints the protobuf DeleteResponse containerd decodes.
// In order: the response the manager left when it deleted the task itself (the C front
// usually prints it first); the manager, asked over the Task API; and only when no
// manager answers, the manager's on-disk cleanup, loaded then and only then.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { encode, type DeleteResponse } from '../proto/index.js';
import { Code, taskClient, Tombstones } from '../taskapi/index.js';
import { RpcError, TtrpcClient } from '../ttrpc/index.js';
import { umount } from '../sys/index.js';
import type { ShimArgs } from './args.js';
import { managerInstance, type ManagerInstance } from './instance.js';

type Deleted = { pid: number; exitStatus: number; exitedAt: Date };

export async function deleteTask(args: ShimArgs): Promise<Uint8Array> {
  if (!args.id) throw new Error('delete: -id is required');
  const inst = managerInstance(args.address);
  const left = new Tombstones(inst.tombstones).take(args.namespace, args.id);
  if (left) return left;
  const r = (await askManager(inst, args)) ?? (await cleanupOnDisk(inst, args));
  const resp: DeleteResponse = { pid: r.pid, exitStatus: r.exitStatus, exitedAt: r.exitedAt };
  return encode('containerd.task.v2.DeleteResponse', resp);
}

/** Kill, wait and delete through the running manager; undefined when none answers. */
async function askManager(inst: ManagerInstance, args: ShimArgs): Promise<Deleted | undefined> {
  if (!existsSync(inst.socket)) return undefined;
  const client = new TtrpcClient(inst.socket, { connectTimeoutMs: 1000 });
  try {
    const tasks = taskClient(client, args.namespace);
    try {
      await tasks.kill({ id: args.id, execId: '', signal: 9, all: true }, { timeoutMs: 5000 });
    } catch (e) {
      if (!(e instanceof RpcError && e.code === Code.NotFound)) throw e;
    }
    await tasks.wait({ id: args.id, execId: '' }, { timeoutMs: 10_000 }).catch(() => undefined);
    const r = await tasks.delete({ id: args.id, execId: '' }, { timeoutMs: 10_000 });
    return { pid: r.pid, exitStatus: r.exitStatus, exitedAt: r.exitedAt ?? new Date() };
  } catch (e) {
    if (e instanceof RpcError && e.code === Code.NotFound) return gone(args.bundle);
    return undefined; // the manager is not answering: the on-disk cleanup follows
  } finally {
    client.close();
  }
}

async function cleanupOnDisk(inst: ManagerInstance, args: ShimArgs): Promise<Deleted> {
  const { destroyDeadTask } = await import('../manager/index.js');
  return (await destroyDeadTask({ socket: inst.socket, namespace: args.namespace, id: args.id })) ?? gone(args.bundle);
}

/** Nothing of the task is known: only containerd's rootfs mount may be left. */
function gone(bundle: string): Deleted {
  if (bundle) umount(join(bundle, 'rootfs'));
  return { pid: 0, exitStatus: 137, exitedAt: new Date() };
}
