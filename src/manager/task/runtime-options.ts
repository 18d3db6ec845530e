// Which OCI runtime binary a task runs with: BinaryName in the runtime's "options" table
// (taskapi/runtime-options.ts reads both types containerd sends), else VNODE_RUNTIME,
// else runc or crun on PATH.
import { runtimeOptionsBinaryName } from '../../taskapi/index.js';
import type { Any } from '../../proto/index.js';
import { resolveRuntime } from '../oci-runtime.js';

export function runtimeBinaryFor(options: Any | undefined): string {
  return resolveRuntime(runtimeOptionsBinaryName(options));
}
