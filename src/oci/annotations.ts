// Annotations containerd's CRI plugin puts on sandbox and container specs.
import type { OciSpec } from './spec.js';

export const CONTAINER_TYPE = 'io.kubernetes.cri.container-type';
export const SANDBOX_ID = 'io.kubernetes.cri.sandbox-id';
export const SANDBOX_NAMESPACE = 'io.kubernetes.cri.sandbox-namespace';
export const SANDBOX_NAME = 'io.kubernetes.cri.sandbox-name';
export const SANDBOX_UID = 'io.kubernetes.cri.sandbox-uid';
export const CONTAINER_NAME = 'io.kubernetes.cri.container-name';

export interface PodIdentity {
  /** 'sandbox' for the pod's pause container, 'container' for the others, 'task' without CRI. */
  kind: 'sandbox' | 'container' | 'task';
  sandboxId?: string;
  podNamespace?: string;
  podName?: string;
  containerName?: string;
}

export function podIdentity(spec: OciSpec): PodIdentity {
  const a = spec.annotations ?? {};
  const type = a[CONTAINER_TYPE];
  if (type !== 'sandbox' && type !== 'container') return { kind: 'task' };
  return {
    kind: type,
    sandboxId: a[SANDBOX_ID],
    podNamespace: a[SANDBOX_NAMESPACE],
    podName: a[SANDBOX_NAME],
    containerName: a[CONTAINER_NAME],
  };
}
