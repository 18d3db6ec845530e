// Errors of the pod-network component, each with a stable code.
export type NetErrorCode =
  | 'VNODE_NET_NOT_NETNS' // a path that should be a network namespace is not one
  | 'VNODE_NET_NO_LINKS' // nothing to move: the CNI chain left no interface in the namespace
  | 'VNODE_NET_CAPTURE' // reading links/addresses/routes failed
  | 'VNODE_NET_MOVE' // moving links or re-applying their configuration failed
  | 'VNODE_NET_MOUNT' // replacing containerd's netns mount failed
  | 'VNODE_NET_NO_VNODE_CNI' // the sandbox's network was not set up by vnode-cni
  | 'VNODE_NET_HOST_NETWORK_REFUSED' // a hostNetwork sandbox where the admin has not allowed them
  | 'VNODE_NET_RECORD' // a record of an adoption is unreadable
  | 'VNODE_NET_CNI_CONFIG' // no usable CNI network configuration
  | 'VNODE_NET_CNI_PLUGIN'; // a CNI plugin is missing or failed

export class NetError extends Error {
  override name = 'NetError';
  constructor(
    readonly code: NetErrorCode,
    message: string,
  ) {
    super(message);
  }
}
