// The volumes of a Pod manifest that `vnode run` supports: hostPath, emptyDir, and the
// ones kubelet fills from API objects — configMap, secret, downwardAPI and projected
// (configMap, secret, downwardAPI and serviceAccountToken sources). Checked as the API
// server validates them, with its defaults (defaultMode 0644). Pure.
import { ManifestError, arr, bool, dnsLabel, int, obj, str, type Obj } from './manifest-fields.js';

/** One `items` entry: a key of the object written at `path`, with its own mode if given. */
export interface KeyToPath {
  key: string;
  path: string;
  mode?: number;
}

export interface ObjectSource {
  name: string;
  /** Empty: every key, each at a file of its own name. */
  items: KeyToPath[];
  optional: boolean;
}

export interface DownwardFile {
  path: string;
  /** metadata.name, metadata.namespace, metadata.uid, metadata.labels, metadata.annotations, metadata.labels['k'], metadata.annotations['k']. */
  fieldPath: string;
  mode?: number;
}

export interface TokenSource {
  path: string;
  audience: string;
  expirationSeconds: number;
}

export type Projection =
  | { configMap: ObjectSource }
  | { secret: ObjectSource }
  | { downwardAPI: { items: DownwardFile[] } }
  | { serviceAccountToken: TokenSource };

export interface PodVolume {
  name: string;
  hostPath?: { path: string; type: string };
  emptyDir?: { medium: string };
  configMap?: ObjectSource & { defaultMode: number };
  secret?: ObjectSource & { defaultMode: number };
  downwardAPI?: { items: DownwardFile[]; defaultMode: number };
  projected?: { sources: Projection[]; defaultMode: number };
}

/** The API server's default for defaultMode (0644). */
export const DEFAULT_MODE = 0o644;

const HOSTPATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];
const SUPPORTED = 'vnode run supports hostPath, emptyDir, configMap, secret, downwardAPI and projected';

/** A file mode as Kubernetes takes it: 0 to 0777 (write it in octal in YAML, 0400; JSON has decimal, 256). */
function mode(v: unknown, field: string): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 0o777) {
    throw new ManifestError(field, `Invalid value: ${JSON.stringify(v)}: must be a number between 0 and 0777 (octal), both inclusive`);
  }
  return v;
}

/** A path inside the volume: relative, no '..' element, not starting with '..' (kubelet's validateLocalNonReservedPath). */
function relPath(v: unknown, field: string): string {
  const p = str(v, field, true)!;
  if (p.startsWith('/')) throw new ManifestError(field, `Invalid value: "${p}": must be a relative path`);
  if (p.split('/').includes('..')) throw new ManifestError(field, `Invalid value: "${p}": must not contain '..'`);
  if (p.startsWith('..')) throw new ManifestError(field, `Invalid value: "${p}": must not start with '..'`);
  return p;
}

function items(v: unknown, field: string): KeyToPath[] {
  return arr(v, field).map((it, i) => {
    const f = `${field}[${i}]`;
    const o = obj(it, f);
    const key = str(o['key'], `${f}.key`, true)!;
    const m = mode(o['mode'], `${f}.mode`);
    return { key, path: relPath(o['path'], `${f}.path`), ...(m !== undefined ? { mode: m } : {}) };
  });
}

function objectSource(o: Obj, field: string, nameKey: 'name' | 'secretName'): ObjectSource {
  return {
    name: str(o[nameKey], `${field}.${nameKey}`, true)!,
    items: items(o['items'], `${field}.items`),
    optional: bool(o['optional'], `${field}.optional`) ?? false,
  };
}

const DOWNWARD_FIELDS = ['metadata.name', 'metadata.namespace', 'metadata.uid', 'metadata.labels', 'metadata.annotations'];
const SUBSCRIPT = /^metadata\.(labels|annotations)\['([^']+)'\]$/;

/** A fieldRef's fieldPath that a downward API volume may use (the API server allows no spec.* or status.* in volumes). */
export function checkDownwardField(path: string, field: string, extra: string[] = []): string {
  if (DOWNWARD_FIELDS.includes(path) || SUBSCRIPT.test(path) || extra.includes(path)) return path;
  const allowed = [...DOWNWARD_FIELDS, 'metadata.labels[\'<KEY>\']', 'metadata.annotations[\'<KEY>\']', ...extra];
  throw new ManifestError(field, `Unsupported value: "${path}": supported values: ${allowed.map((a) => `"${a}"`).join(', ')}`);
}

function downwardItems(v: unknown, field: string): DownwardFile[] {
  return arr(v, field).map((it, i) => {
    const f = `${field}[${i}]`;
    const o = obj(it, f);
    if (o['resourceFieldRef'] !== undefined) throw new ManifestError(`${f}.resourceFieldRef`, 'not supported by vnode run; use fieldRef');
    const ref = obj(o['fieldRef'], `${f}.fieldRef`);
    if (o['fieldRef'] === undefined) throw new ManifestError(`${f}.fieldRef`, 'Required value');
    const fieldPath = checkDownwardField(str(ref['fieldPath'], `${f}.fieldRef.fieldPath`, true)!, `${f}.fieldRef.fieldPath`);
    const m = mode(o['mode'], `${f}.mode`);
    return { path: relPath(o['path'], `${f}.path`), fieldPath, ...(m !== undefined ? { mode: m } : {}) };
  });
}

function projection(v: unknown, field: string): Projection {
  const o = obj(v, field);
  const kinds = Object.keys(o);
  if (kinds.length !== 1) throw new ManifestError(field, kinds.length === 0 ? 'must specify exactly 1 projection type' : `may not specify more than 1 projection type (got ${kinds.join(', ')})`);
  const kind = kinds[0]!;
  const f = `${field}.${kind}`;
  const src = obj(o[kind], f);
  switch (kind) {
    case 'configMap': return { configMap: objectSource(src, f, 'name') };
    case 'secret': return { secret: objectSource(src, f, 'name') };
    case 'downwardAPI': return { downwardAPI: { items: downwardItems(src['items'], `${f}.items`) } };
    case 'serviceAccountToken': {
      const expirationSeconds = src['expirationSeconds'] === undefined ? 3600 : int(src['expirationSeconds'], `${f}.expirationSeconds`, 600, 2 ** 32 - 1)!;
      return { serviceAccountToken: { path: relPath(src['path'], `${f}.path`), audience: str(src['audience'], `${f}.audience`) ?? '', expirationSeconds } };
    }
    default:
      throw new ManifestError(f, `projection type ${kind} is not supported by vnode run: configMap, secret, downwardAPI and serviceAccountToken are`);
  }
}

/** One entry of spec.volumes. */
export function podVolume(v: unknown, field: string): PodVolume {
  const o = obj(v, field);
  const name = dnsLabel(str(o['name'], `${field}.name`, true)!, `${field}.name`);
  const sources = Object.keys(o).filter((k) => k !== 'name');
  if (sources.length === 0) throw new ManifestError(field, `must specify a volume type (${SUPPORTED})`);
  if (sources.length > 1) throw new ManifestError(field, `may not specify more than 1 volume type (got ${sources.join(', ')})`);
  const kind = sources[0]!;
  const f = `${field}.${kind}`;
  const src = obj(o[kind], f);
  const defaultMode = () => mode(src['defaultMode'], `${f}.defaultMode`) ?? DEFAULT_MODE;
  switch (kind) {
    case 'hostPath': {
      const path = str(src['path'], `${f}.path`, true)!;
      if (!path.startsWith('/')) throw new ManifestError(`${f}.path`, `Invalid value "${path}": must be an absolute path`);
      const type = str(src['type'], `${f}.type`) ?? '';
      if (!HOSTPATH_TYPES.includes(type)) {
        throw new ManifestError(`${f}.type`, `Unsupported value: "${type}": supported values: ${HOSTPATH_TYPES.filter(Boolean).map((t) => `"${t}"`).join(', ')}`);
      }
      return { name, hostPath: { path, type } };
    }
    case 'emptyDir': {
      const medium = str(src['medium'], `${f}.medium`) ?? '';
      if (medium !== '' && medium !== 'Memory') throw new ManifestError(`${f}.medium`, `Unsupported value: "${medium}": supported values: "", "Memory"`);
      return { name, emptyDir: { medium } };
    }
    case 'configMap':
      return { name, configMap: { ...objectSource(src, f, 'name'), defaultMode: defaultMode() } };
    case 'secret':
      return { name, secret: { ...objectSource(src, f, 'secretName'), defaultMode: defaultMode() } };
    case 'downwardAPI':
      return { name, downwardAPI: { items: downwardItems(src['items'], `${f}.items`), defaultMode: defaultMode() } };
    case 'projected':
      return { name, projected: { sources: arr(src['sources'], `${f}.sources`).map((s, i) => projection(s, `${f}.sources[${i}]`)), defaultMode: defaultMode() } };
    default:
      throw new ManifestError(f, `volume type ${kind} is not supported by vnode run: ${SUPPORTED} (there is no cluster to provide it)`);
  }
}
