// `containerd-shim-vnode-v2 delete`: containerd lost the task (manager unreachable,
// or cleaning up after a restart) and asks for a final cleanup. The runtime core does
// the work; the shim prints the protobuf DeleteResponse containerd decodes.
import { cleanupDeadTask } from '../manager/cleanup.js';
import { instancePaths } from '../manager/paths.js';
import { Tombstones } from '../manager/tombstones.js';
import { encode, type DeleteResponse } from '../proto/index.js';
import type { ShimArgs } from './args.js';
import { managerInstance } from './instance.js';

export async function deleteTask(args: ShimArgs): Promise<Uint8Array> {
  if (!args.id) throw new Error('delete: -id is required');
  // The manager deleted the task already and left its response (the C front usually prints it).
  const left = new Tombstones(instancePaths(managerInstance(args.address).socket).deleted).take(args.namespace, args.id);
  if (left) return left;
  const r = await cleanupDeadTask({ namespace: args.namespace, id: args.id, bundle: args.bundle, containerdAddress: args.address });
  const resp: DeleteResponse = { pid: r.pid, exitStatus: r.exitStatus, exitedAt: r.exitedAt };
  return encode('containerd.task.v2.DeleteResponse', resp);
}
