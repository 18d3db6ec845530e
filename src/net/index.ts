// Pod networking for vNodes: a pod's CNI network moved into a network namespace its
// vNode owns (docs/networking.md).
export { NetError, type NetErrorCode } from './errors.js';
export { captureNetns } from './capture.js';
export { moveLinks, type MoveInput } from './move.js';
export { isNetnsFile, netnsInode } from './netns-file.js';
export { adoptPodNetwork, readAdoptionRecord, recoverAdoption, removeAdoptionRecord, verifyPodNetwork, type AdoptInput, type AdoptionRecord } from './pod-network.js';
export { restoreCommands, type AddrState, type LinkState, type NetnsSnapshot, type RouteState } from './snapshot.js';
export { cniMarkerDir, readCniMarker, requireVnodeCni, sweepCniMarkers, type CniMarker } from './cni-marker.js';
export { cniAdd, cniCheck, cniDel, CniPluginError, loadConfList, pluginConfig, type CniConfList, type CniRuntime } from './cni-chain.js';
export { attachVnodeNetwork, detachVnodeNetwork, vnodeContainerId, type AttachInput, type VnodeNetworkRecord } from './vnode-network.js';
