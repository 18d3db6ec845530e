// Annotations containerd's CRI plugin puts on sandbox and container specs.
import { InvalidSpecError, type OciSpec } from './spec.js';

export const CONTAINER_TYPE = 'io.kubernetes.cri.container-type';
export const SANDBOX_ID = 'io.kubernetes.cri.sandbox-id';
export const SANDBOX_NAMESPACE = 'io.kubernetes.cri.sandbox-namespace';
export const SANDBOX_NAME = 'io.kubernetes.cri.sandbox-name';
export const SANDBOX_UID = 'io.kubernetes.cri.sandbox-uid';
export const CONTAINER_NAME = 'io.kubernetes.cri.container-name';
/**
 * vnode's own pod annotation: the pods that carry it with the same value share one named
 * vNode, whatever their Kubernetes namespace (tenants that span namespaces). containerd
 * passes it to the runtime only where the runtime lists it in `pod_annotations`.
 */
export const VNODE_NAME_ANNOTATION = 'vnode.dev/vnode';
/** A DNS label, as Kubernetes names are: it becomes part of the vNode's name. */
const VNODE_NAME = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

export interface PodIdentity {
  /** 'sandbox' for the pod's pause container, 'container' for the others, 'task' without CRI. */
  kind: 'sandbox' | 'container' | 'task';
  sandboxId?: string;
  podNamespace?: string;
  podName?: string;
  containerName?: string;
  /** The named vNode the pod asks for (VNODE_NAME_ANNOTATION); only a sandbox carries it. */
  vnodeName?: string;
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
    ...(type === 'sandbox' && a[VNODE_NAME_ANNOTATION] !== undefined ? { vnodeName: checkedVnodeName(a[VNODE_NAME_ANNOTATION]!) } : {}),
  };
}

function checkedVnodeName(name: string): string {
  if (!VNODE_NAME.test(name)) {
    throw new InvalidSpecError(`annotation ${VNODE_NAME_ANNOTATION}=${JSON.stringify(name)} is not a valid vNode name: use a DNS label (lower-case letters, digits and '-', at most 63 characters, starting and ending with a letter or digit)`);
  }
  return name;
}
