// runtimeoptions.v1 (proto/containerd/runtimeoptions/options.proto): the runtime options
// containerd's CRI sends to a shim whose runtime type is not io.containerd.runc.v2.
export type { Options as GenericRuntimeOptions } from './gen/containerd/runtimeoptions/options.js';

export const GENERIC_RUNTIME_OPTIONS = 'runtimeoptions.v1.Options';
