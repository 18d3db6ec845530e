// Errors of the pod-network component, each with a stable code.
export type NetErrorCode =
  | 'NET_NOT_NETNS' // a path that should be a network namespace is not one
  | 'NET_NO_LINKS' // nothing to move: the CNI chain left no interface in the namespace
  | 'NET_CAPTURE' // reading links/addresses/routes failed
  | 'NET_MOVE' // moving links or re-applying their configuration failed
  | 'NET_MOUNT' // replacing containerd's netns mount failed
  | 'NET_NO_VNODE_CNI' // the sandbox's network was not set up by vnode-cni
  | 'NET_RECORD' // a record of an adoption is unreadable
  | 'NET_CNI_CONFIG' // no usable CNI network configuration
  | 'NET_CNI_PLUGIN'; // a CNI plugin is missing or failed

export class NetError extends Error {
  override name = 'NetError';
  constructor(
    readonly code: NetErrorCode,
    message: string,
  ) {
    super(message);
  }
}
