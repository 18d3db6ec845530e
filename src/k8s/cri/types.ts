// TypeScript shapes of the CRI messages, from the code generated in gen/ out of
// proto/k8s/cri/v1/api.proto: field names in snake_case as in the .proto; int64/uint64
// as decimal strings (nanosecond timestamps do not fit a double); enums as their names;
// bytes as Buffer; absent message fields undefined.
//
// Responses are the generated messages as decoded (proto3 defaults filled in). Requests
// are given in their input form (CriInput): any field may be left out, and int64 fields
// and enums may also be numbers, as proto3 JSON allows (the client converts with the
// generated fromJSON).
import type * as cri from './gen/k8s/cri/v1/api.js';

/** The input form of a generated message: every field optional, numbers allowed for int64 and enums. */
export type CriInput<T> = T extends Buffer
  ? T
  : T extends string
    ? T | number
    : T extends (infer U)[]
      ? CriInput<U>[]
      : T extends object
        ? { [K in keyof T]?: CriInput<T[K]> }
        : T;

export type Int64 = number | string;
export type Labels = Record<string, string>;

// Enums: unions of their names, with `as const` objects of the names.
export { NamespaceMode, Protocol, MountPropagation, PodSandboxState, ContainerState } from './gen/k8s/cri/v1/api.js';

// Messages given in requests (and some also seen in responses).
export type Int64Value = CriInput<cri.Int64Value>;
export type UInt64Value = cri.UInt64Value;
export type KeyValue = CriInput<cri.KeyValue>;
export type PortMapping = CriInput<cri.PortMapping>;
export type IDMapping = CriInput<cri.IDMapping>;
export type Mount = CriInput<cri.Mount>;
export type NamespaceOption = CriInput<cri.NamespaceOption>;
export type SELinuxOption = CriInput<cri.SELinuxOption>;
export type SecurityProfile = CriInput<cri.SecurityProfile>;
export type Capability = CriInput<cri.Capability>;
export type LinuxContainerResources = CriInput<cri.LinuxContainerResources>;
export type ImageSpec = CriInput<cri.ImageSpec>;
export type DNSConfig = CriInput<cri.DNSConfig>;
export type LinuxSandboxSecurityContext = CriInput<cri.LinuxSandboxSecurityContext>;
export type LinuxPodSandboxConfig = CriInput<cri.LinuxPodSandboxConfig>;
export type PodSandboxMetadata = CriInput<cri.PodSandboxMetadata>;
export type PodSandboxConfig = CriInput<cri.PodSandboxConfig>;
export type PodSandboxFilter = CriInput<cri.PodSandboxFilter>;
export type LinuxContainerSecurityContext = CriInput<cri.LinuxContainerSecurityContext>;
export type LinuxContainerConfig = CriInput<cri.LinuxContainerConfig>;
export type ContainerMetadata = CriInput<cri.ContainerMetadata>;
export type Device = CriInput<cri.Device>;
export type ContainerConfig = CriInput<cri.ContainerConfig>;
export type ContainerFilter = CriInput<cri.ContainerFilter>;
export type ExecRequest = CriInput<cri.ExecRequest>;
export type AttachRequest = CriInput<cri.AttachRequest>;
export type AuthConfig = CriInput<cri.AuthConfig>;

// Responses, as decoded.
export type {
  Container,
  ContainerStats,
  ContainerStatus,
  ContainerStatusResponse,
  ExecSyncResponse,
  Image,
  ImageStatusResponse,
  PodSandbox,
  PodSandboxStatus,
  PodSandboxStatusResponse,
  RuntimeCondition,
  StatusResponse,
  VersionResponse,
} from './gen/k8s/cri/v1/api.js';
