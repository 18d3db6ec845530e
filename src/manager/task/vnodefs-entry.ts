// Which vnodefs entry (per-pod /proc and /sys files) a new task reads, and the entries
// tasks own: a pod sandbox owns its pod's (based on the pod's cgroup, made once the
// sandbox's cgroup exists), a task without CRI its own (from its spec's cgroupsPath);
// a pod's containers read their sandbox's. The pause container reads nothing there.
import type { VnodefsPlacement } from '../../oci/index.js';
import type { OciSpec } from '../../oci/index.js';
import { isUnifiedHost, type CgroupLocation } from '../../cgroup/index.js';
import { helperPath } from '../helpers.js';
import { podCgroupOf, taskCgroupOf } from '../../cgroup/index.js';
import { viewId, type ProcView } from '../proc-view.js';
import type { TaskRecord } from '../task-store.js';
import type { Vnode } from '../vnode.js';

type View = NonNullable<TaskRecord['view']>;

function entrySpec(v: Vnode, cgroup: View['spec']['cgroup']): View['spec'] {
  return { cgroup, startedAt: Date.parse(v.record.createdAt), pidNamespaceInitPid: v.initPid, rootHostUid: v.record.range.start, scope: v.name };
}

/** A task without CRI: its own entry, served from now on (undefined when its cgroup is not a cgroupfs path). */
export function addTaskEntry(pv: ProcView, v: Vnode, ns: string, id: string, spec: OciSpec): View | undefined {
  const cg = taskCgroupOf(spec.linux?.cgroupsPath, isUnifiedHost());
  if (!cg) return undefined;
  const view: View = { id: viewId('task', `${ns}_${id}`), spec: entrySpec(v, cg) };
  pv.add(view.id, view.spec);
  return view;
}

/** A pod sandbox: its pod's entry, once its cgroup is known; its files are looked up ahead of the containers. */
export function addSandboxEntry(pv: ProcView, v: Vnode, id: string, sandboxCgroup: CgroupLocation): View {
  const view: View = { id: viewId('pod', id), spec: entrySpec(v, podCgroupOf(sandboxCgroup)) };
  pv.add(view.id, view.spec);
  pv.warm(view.id);
  return view;
}

/** The planner's input for a container reading entry `id`. */
export function placementOf(pv: ProcView, id: string): VnodefsPlacement {
  return { ...pv.placement(id), bindHelper: helperPath('vnode-bind') };
}
