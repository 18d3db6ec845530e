// `containerd-shim-vnode-v2 -info`: containerd 2.x asks a shim about itself (runtime
// introspection) with the runtime options on stdin; the answer is a protobuf
// containerd.types.RuntimeInfo on stdout. vnode reports its name and version and echoes
// the options; it does not claim OCI runtime features it has not checked.
import { decode, encode, type Any, type RuntimeInfo } from '../proto/index.js';

export const RUNTIME_NAME = 'io.containerd.vnode.v2';

export function runtimeInfo(optionsOnStdin: Uint8Array, version: string): Uint8Array {
  let options: Any | undefined;
  if (optionsOnStdin.length > 0) {
    try {
      options = decode<Any>('google.protobuf.Any', optionsOnStdin);
    } catch {
      options = undefined;
    }
  }
  const info: RuntimeInfo = { name: RUNTIME_NAME, version: { version, revision: '' }, annotations: {}, ...(options ? { options } : {}) };
  return encode('containerd.types.RuntimeInfo', info);
}
