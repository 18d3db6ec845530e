// Errors of vnode install/uninstall, each with a stable code (for -o json and tests) and
// the exit code the command ends with (1 = failed, 2 = refused input such as a config that
// does not parse).

export type InstallErrorCode =
  | 'CONFIG_PARSE' // containerd's config is not valid TOML
  | 'CONFIG_VERSION' // version key missing (v1), unknown, or not what this containerd reads
  | 'CONFIG_EDIT' // the vnode table cannot be added without changing other keys
  | 'RUNTIME_EXISTS' // a `vnode` runtime that install did not write
  | 'UNSUPPORTED_RUNTIME' // CRI-O, cri-dockerd or Docker Engine node
  | 'NO_CONTAINERD' // no containerd binary or process found
  | 'NO_CNI_NETWORK' // no primary CNI network to chain vnode-cni to
  | 'NO_BUILD' // the build to copy is missing (npm run build)
  | 'RESTART' // containerd could not be restarted, or did not come back with the handler
  | 'PODS_RUNNING' // uninstall while vNode pods run
  | 'NOT_INSTALLED' // uninstall finds nothing install wrote
  | 'STATE'; // the install record or backup is missing or does not match

export class InstallError extends Error {
  override name = 'InstallError';
  constructor(readonly code: InstallErrorCode, message: string, readonly exitCode = code === 'CONFIG_PARSE' || code === 'CONFIG_VERSION' ? 2 : 1) {
    super(message);
  }
}
