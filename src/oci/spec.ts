// The parts of the OCI runtime spec (config.json) that vnode reads or rewrites.
// Everything else passes through untouched, so unknown fields are kept.
export interface OciNamespace {
  type: 'pid' | 'network' | 'mount' | 'ipc' | 'uts' | 'user' | 'cgroup' | 'time';
  path?: string;
}

export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
  /** An ID-mapped mount's mappings (containerd 2.x with hostUsers: false). */
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
}

export interface OciDevice {
  path: string;
  type: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  uid?: number;
  gid?: number;
}

export interface OciProcess {
  terminal?: boolean;
  user: { uid: number; gid: number; additionalGids?: number[]; umask?: number };
  args?: string[];
  env?: string[];
  cwd: string;
  capabilities?: Record<string, string[]>;
  oomScoreAdj?: number;
  [k: string]: unknown;
}

export interface OciLinux {
  namespaces?: OciNamespace[];
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
  devices?: OciDevice[];
  cgroupsPath?: string;
  resources?: Record<string, unknown>;
  maskedPaths?: string[];
  readonlyPaths?: string[];
  [k: string]: unknown;
}

export interface OciSpec {
  ociVersion: string;
  process?: OciProcess;
  root?: { path: string; readonly?: boolean };
  hostname?: string;
  mounts?: OciMount[];
  annotations?: Record<string, string>;
  linux?: OciLinux;
  [k: string]: unknown;
}

/** Thrown for a spec vnode cannot run; the message says what and what to do. */
export class InvalidSpecError extends Error {
  override name = 'InvalidSpecError';
  readonly code = 'VNODE_INVALID_SPEC';
}

export function parseSpec(text: string, where: string): OciSpec {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new InvalidSpecError(`${where}: not valid JSON (${(e as Error).message}); the bundle's config.json must be an OCI runtime spec`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidSpecError(`${where}: an OCI runtime spec must be a JSON object`);
  }
  const spec = value as OciSpec;
  if (typeof spec.ociVersion !== 'string') throw new InvalidSpecError(`${where}: "ociVersion" is missing`);
  if (!spec.process || !Array.isArray(spec.process.args) || spec.process.args.length === 0) {
    throw new InvalidSpecError(`${where}: "process.args" must name the program to run`);
  }
  if (!spec.root || typeof spec.root.path !== 'string') throw new InvalidSpecError(`${where}: "root.path" is missing`);
  if (spec.mounts !== undefined && !Array.isArray(spec.mounts)) throw new InvalidSpecError(`${where}: "mounts" must be a list`);
  if (spec.linux?.namespaces !== undefined && !Array.isArray(spec.linux.namespaces)) {
    throw new InvalidSpecError(`${where}: "linux.namespaces" must be a list`);
  }
  return spec;
}
