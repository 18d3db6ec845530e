// Which OCI runtime binary a task runs with: containerd's runc options (BinaryName) in
// the runtime's "options" table, else VNODE_RUNTIME, else runc or crun on PATH.
// SystemdCgroup is accepted.
import { anyTypeName, RUNC_OPTIONS, unpackAny, type Any, type RuncOptions } from '../../proto/index.js';
import { resolveRuntime } from '../oci-runtime.js';
import { BadRequestError } from './errors.js';

export function runtimeBinaryFor(options: Any | undefined): string {
  return resolveRuntime(runtimeOption(options));
}

function runtimeOption(options: Any | undefined): string | undefined {
  if (!options || options.value.length === 0) return undefined;
  const type = anyTypeName(options);
  if (type !== RUNC_OPTIONS) {
    throw new BadRequestError(`unknown runtime options type "${options.typeUrl}": the vnode runtime takes containerd.runc.v1.Options (runtime "options" table in containerd's config)`);
  }
  const o = unpackAny<RuncOptions>(options);
  // SystemdCgroup = true needs nothing here: containerd then writes systemd-form
  // cgroupsPaths, which the planner and systemd-scope.ts handle (the runtime itself
  // always runs with the cgroupfs driver: cgroup/systemd-unit.ts says why).
  return o.binaryName || undefined;
}
