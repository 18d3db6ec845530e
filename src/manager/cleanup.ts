// The on-disk cleanup of a task whose manager is gone, for the shim's `delete`
// (src/shim/delete.ts asks a running manager first): the task's runtime state, mounts
// and vNode membership go, from the records a manager left.
import { silentLogger } from '../log/index.js';
import { instancePaths } from './paths.js';
import { TaskService } from './service.js';
import { DEFAULT_POD_FILE_PREFIXES } from './main.js';

/** undefined when no record of the task is left. */
export async function destroyDeadTask(o: { socket: string; namespace: string; id: string }): Promise<{ pid: number; exitStatus: number; exitedAt: Date } | undefined> {
  const service = new TaskService({ paths: instancePaths(o.socket), events: { publish: () => undefined }, perPod: false, logger: silentLogger(), podFilePrefixes: DEFAULT_POD_FILE_PREFIXES });
  service.reload();
  const t = service.store.get(o.namespace, o.id);
  return t ? service.destroy(t) : undefined;
}
