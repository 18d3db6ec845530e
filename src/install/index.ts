// Public surface of the install component: vnode install / uninstall into a node's
// existing containerd (config edit, the vnode runtime's CNI, the build in the prefix,
// the vnode-manager unit, the restart), and what doctor asks about an installed node.
export { install, DEFAULT_CONFIG, DEFAULT_PREFIX, DEFAULT_ADDRESS, VNODE_POD_ANNOTATIONS, addresses, type InstallOptions, type InstallResult, type Step, type Action } from './install.js';
export { uninstall, installedRecord, type UninstallOptions } from './uninstall.js';
export { InstallError, type InstallErrorCode } from './errors.js';
export { BLOCK_BEGIN, BLOCK_END, applyBlock, removeBlock, renderBlock, configFormat, nodeCriSettings, criPlugin, parseConfig, verifyEdit, type ConfigFormat } from './config-edit.js';
export { hostRoot, findContainerd, parseContainerdVersion, unitOfCgroup, configOfArgv, refuseOtherRuntimes, type HostRoot } from './node.js';
export { restartPlan, liveRuntimeHandlers, handlersAt, type RestartPlan, type Progress } from './restart.js';
export { serviceUnit, SERVICE_PATH, SERVICE_UNIT } from './service.js';
export { primaryNetwork, asConflist, vnodeNetwork, vnodeConflistText, vnodeCniPlan, readConfDir, syncVnodeCni, type VnodeCniPlan } from './cni.js';
export { readRecord, recordPath, installedCniDirs, type InstallRecord } from './record.js';
export { buildVnodeImage, sharedLibraries, VNODE_IMAGE_REF, type VnodeImage } from './image.js';
export { copyBuild } from './install.js';
export { installedNodeChecks, HEALTHZ_ADDRESS, type NodeCheck } from './doctor.js';
export {
  containerdConfig, vnodeRuntime, runtimesOf, bridgeConflist, vnodeConflist, cniBinDir, writeCniConfig, freeSubnet,
  type ContainerdConfigInput, type CniFiles,
} from './containerd-config.js';
