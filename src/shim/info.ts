// `containerd-shim-vnode-v2 -info`: containerd 2.x asks a shim about itself (runtime
// introspection) with the runtime options on stdin; the answer is a protobuf
// containerd.types.RuntimeInfo on stdout: vnode's name and version, the options echoed,
// and the OCI features vnode provides (features.ts), which CRI turns into the handler's
// recursive read-only and user namespace support.
import { decode, encode, type Any, type RuntimeInfo } from '../proto/index.js';
import { FEATURES_TYPE_URL, runtimeBinaryOf, runtimeFeatures, vnodeFeatures, type OciFeatures } from './features.js';

export const RUNTIME_NAME = 'io.containerd.vnode.v2';

export function runtimeInfo(optionsOnStdin: Uint8Array, version: string, base?: (options: Any | undefined) => OciFeatures | undefined): Uint8Array {
  let options: Any | undefined;
  if (optionsOnStdin.length > 0) {
    try {
      options = decode<Any>('google.protobuf.Any', optionsOnStdin);
    } catch {
      options = undefined;
    }
  }
  const features = vnodeFeatures((base ?? ((o) => runtimeFeatures(runtimeBinaryOf(o))))(options));
  const info: RuntimeInfo = {
    name: RUNTIME_NAME,
    version: { version, revision: '' },
    annotations: {},
    ...(options ? { options } : {}),
    features: { typeUrl: FEATURES_TYPE_URL, value: new TextEncoder().encode(JSON.stringify(features)) },
  };
  return encode('containerd.types.RuntimeInfo', info);
}
