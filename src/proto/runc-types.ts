// containerd.runc.v1 runtime options (proto/containerd/runc/options/oci.proto), as generated in gen/.
export type { Options as RuncOptions, CheckpointOptions, ProcessDetails } from './gen/containerd/runc/options/oci.js';

export const RUNC_OPTIONS = 'containerd.runc.v1.Options';
export const RUNC_PROCESS_DETAILS = 'containerd.runc.v1.ProcessDetails';
