// containerd.runc.v1 runtime options (core/runtime/v2/runc/options/oci.proto).
export const RUNC_OPTIONS = 'containerd.runc.v1.Options';
export const RUNC_PROCESS_DETAILS = 'containerd.runc.v1.ProcessDetails';

export interface RuncOptions {
  noPivotRoot: boolean;
  noNewKeyring: boolean;
  shimCgroup: string;
  ioUid: number;
  ioGid: number;
  binaryName: string;
  root: string;
  /** containerd 1.x only (field 8, removed in 2.0). */
  criuPath: string;
  systemdCgroup: boolean;
  criuImagePath: string;
  criuWorkPath: string;
  taskApiAddress: string;
  taskApiProtocol: string;
  taskApiVersion: number;
}

export interface ProcessDetails {
  execId: string;
}
