// Reads a Kubernetes Pod manifest (YAML or JSON) into the subset `vnode run` supports,
// checking every field it uses. Errors name the field as kubectl does
// ("spec.containers[0].image: Required value"). Pure: no I/O besides the text given.
import { randomUUID } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { CliErrorCode, UsageError } from './errors.js';

export class ManifestError extends UsageError {
  override name = 'ManifestError';
  constructor(readonly field: string, detail: string) {
    super(field ? `${field}: ${detail}` : detail, CliErrorCode.manifest);
  }
}

export interface PodVolume {
  name: string;
  hostPath?: { path: string; type: string };
  emptyDir?: { medium: string };
}

export interface VolumeMount {
  name: string;
  mountPath: string;
  readOnly: boolean;
  subPath: string;
}

export interface ContainerPort {
  name: string;
  containerPort: number;
  hostPort: number;
  hostIP: string;
  protocol: 'TCP' | 'UDP' | 'SCTP';
}

export interface Resources {
  /** millicores */
  cpuLimit?: number;
  cpuRequest?: number;
  /** bytes */
  memoryLimit?: number;
  memoryRequest?: number;
}

export interface SeccompProfile {
  type: 'RuntimeDefault' | 'Unconfined' | 'Localhost';
  localhostProfile?: string;
}

export interface ContainerSpec {
  name: string;
  image: string;
  command: string[];
  args: string[];
  env: { name: string; value: string }[];
  workingDir: string;
  ports: ContainerPort[];
  volumeMounts: VolumeMount[];
  resources: Resources;
  tty: boolean;
  stdin: boolean;
  stdinOnce: boolean;
  securityContext: {
    privileged?: boolean;
    runAsUser?: number;
    runAsGroup?: number;
    readOnlyRootFilesystem?: boolean;
    allowPrivilegeEscalation?: boolean;
    capabilities: { add: string[]; drop: string[] };
    seccompProfile?: SeccompProfile;
  };
}

export interface PodManifest {
  name: string;
  namespace: string;
  uid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  runtimeClassName?: string;
  restartPolicy: 'Always' | 'OnFailure' | 'Never';
  hostNetwork: boolean;
  hostPID: boolean;
  hostIPC: boolean;
  shareProcessNamespace: boolean;
  hostname?: string;
  /** Seconds between SIGTERM and SIGKILL when the pod is stopped (Kubernetes' default 30). */
  terminationGracePeriodSeconds: number;
  securityContext: {
    runAsUser?: number;
    runAsGroup?: number;
    supplementalGroups: number[];
    sysctls: Record<string, string>;
    seccompProfile?: SeccompProfile;
  };
  volumes: PodVolume[];
  initContainers: ContainerSpec[];
  containers: ContainerSpec[];
  /** Fields that are valid Kubernetes but have no effect here (probes, nodeSelector, ...). */
  ignored: string[];
}

// ---- small checkers ------------------------------------------------------------------------

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown, field: string): Obj {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new ManifestError(field, `must be an object (got ${typeName(v)})`);
  return v;
}

function arr(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ManifestError(field, `must be a list (got ${typeName(v)})`);
  return v;
}

function str(v: unknown, field: string, required = false): string | undefined {
  if (v === undefined || v === null || v === '') {
    if (required) throw new ManifestError(field, 'Required value');
    return undefined;
  }
  if (typeof v !== 'string') throw new ManifestError(field, `must be a string (got ${typeName(v)})`);
  return v;
}

function bool(v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ManifestError(field, `must be true or false (got ${JSON.stringify(v)})`);
  return v;
}

function int(v: unknown, field: string, min = 0, max = 2 ** 31 - 1): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ManifestError(field, `must be an integer between ${min} and ${max} (got ${JSON.stringify(v)})`);
  }
  return v;
}

function strList(v: unknown, field: string): string[] {
  return arr(v, field).map((s, i) => {
    if (typeof s !== 'string') throw new ManifestError(`${field}[${i}]`, `must be a string (got ${typeName(s)})`);
    return s;
  });
}

function strMap(v: unknown, field: string): Record<string, string> {
  const o = obj(v, field);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) {
    if (typeof val !== 'string') throw new ManifestError(`${field}.${k}`, `must be a string (got ${typeName(val)}; quote it in YAML)`);
    out[k] = val;
  }
  return out;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function dnsLabel(v: string, field: string): string {
  if (v.length > 63 || !DNS1123_LABEL.test(v)) {
    throw new ManifestError(field, `Invalid value "${v}": must be a lowercase RFC 1123 label (a-z, 0-9, '-', at most 63 characters)`);
  }
  return v;
}

function dnsSubdomain(v: string, field: string): string {
  if (v.length > 253 || !DNS1123_SUBDOMAIN.test(v)) {
    throw new ManifestError(field, `Invalid value "${v}": must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-', '.')`);
  }
  return v;
}

// ---- quantities ----------------------------------------------------------------------------

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** A Kubernetes quantity ("128Mi", "0.5", "500m", "1e3") as a number of base units. */
export function parseQuantity(v: unknown, field: string): number {
  const text = typeof v === 'number' ? String(v) : v;
  if (typeof text !== 'string') throw new ManifestError(field, `must be a quantity such as 500m or 128Mi (got ${typeName(v)})`);
  const m = /^([+]?[0-9]*\.?[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?[0-9]+))?$/.exec(text.trim());
  if (!m) throw new ManifestError(field, `Invalid value "${text}": must be a quantity such as 500m, 0.5, 128Mi or 1G`);
  const n = Number(m[1]);
  if (m[3] !== undefined) return n * 10 ** Number(m[3]);
  const suffix = m[2] ?? '';
  return n * (BINARY[suffix] ?? DECIMAL[suffix] ?? 1);
}

function resources(v: unknown, field: string): Resources {
  const o = obj(v, field);
  const out: Resources = {};
  for (const kind of ['limits', 'requests'] as const) {
    const r = obj(o[kind], `${field}.${kind}`);
    for (const [name, q] of Object.entries(r)) {
      const f = `${field}.${kind}.${name}`;
      if (name === 'cpu') {
        const milli = Math.ceil(parseQuantity(q, f) * 1000);
        if (milli <= 0) throw new ManifestError(f, `must be greater than 0 (got ${JSON.stringify(q)})`);
        if (kind === 'limits') out.cpuLimit = milli;
        else out.cpuRequest = milli;
      } else if (name === 'memory') {
        const bytes = Math.ceil(parseQuantity(q, f));
        if (bytes <= 0) throw new ManifestError(f, `must be greater than 0 (got ${JSON.stringify(q)})`);
        if (kind === 'limits') out.memoryLimit = bytes;
        else out.memoryRequest = bytes;
      } else if (name !== 'ephemeral-storage' && !name.startsWith('hugepages-')) {
        throw new ManifestError(f, 'unsupported resource: vnode run supports cpu and memory');
      }
    }
  }
  if (out.cpuLimit !== undefined && out.cpuRequest !== undefined && out.cpuRequest > out.cpuLimit) {
    throw new ManifestError(`${field}.requests.cpu`, 'must be less than or equal to the cpu limit');
  }
  if (out.memoryLimit !== undefined && out.memoryRequest !== undefined && out.memoryRequest > out.memoryLimit) {
    throw new ManifestError(`${field}.requests.memory`, 'must be less than or equal to the memory limit');
  }
  return out;
}

function seccomp(v: unknown, field: string): SeccompProfile | undefined {
  if (v === undefined || v === null) return undefined;
  const o = obj(v, field);
  const type = str(o['type'], `${field}.type`, true)!;
  if (type !== 'RuntimeDefault' && type !== 'Unconfined' && type !== 'Localhost') {
    throw new ManifestError(`${field}.type`, `Unsupported value: "${type}": supported values: "Localhost", "RuntimeDefault", "Unconfined"`);
  }
  const localhostProfile = str(o['localhostProfile'], `${field}.localhostProfile`, type === 'Localhost');
  return { type, ...(localhostProfile ? { localhostProfile } : {}) };
}

// ---- containers ----------------------------------------------------------------------------

const IGNORED_CONTAINER_FIELDS = ['livenessProbe', 'readinessProbe', 'startupProbe', 'lifecycle', 'imagePullPolicy', 'terminationMessagePath', 'terminationMessagePolicy'];
const UNSUPPORTED_CONTAINER_FIELDS: Record<string, string> = {
  envFrom: 'envFrom needs ConfigMaps/Secrets, which exist only in a cluster; use env with value',
  volumeDevices: 'block devices are not supported',
};

function container(v: unknown, field: string, volumes: Map<string, PodVolume>, ignored: string[]): ContainerSpec {
  const o = obj(v, field);
  const name = dnsLabel(str(o['name'], `${field}.name`, true)!, `${field}.name`);
  const image = str(o['image'], `${field}.image`, true)!;
  for (const [key, why] of Object.entries(UNSUPPORTED_CONTAINER_FIELDS)) {
    if (o[key] !== undefined) throw new ManifestError(`${field}.${key}`, `not supported by vnode run: ${why}`);
  }
  for (const key of IGNORED_CONTAINER_FIELDS) if (o[key] !== undefined) ignored.push(`${field}.${key}`);

  const env = arr(o['env'], `${field}.env`).map((e, i) => {
    const f = `${field}.env[${i}]`;
    const eo = obj(e, f);
    const envName = str(eo['name'], `${f}.name`, true)!;
    if (eo['valueFrom'] !== undefined) throw new ManifestError(`${f}.valueFrom`, 'not supported by vnode run (no API server to resolve it); use value');
    const value = eo['value'];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw new ManifestError(`${f}.value`, `must be a string (got ${typeName(value)}; quote it in YAML)`);
    }
    return { name: envName, value: (value as string | undefined) ?? '' };
  });

  const ports = arr(o['ports'], `${field}.ports`).map((p, i): ContainerPort => {
    const f = `${field}.ports[${i}]`;
    const po = obj(p, f);
    const protocol = str(po['protocol'], `${f}.protocol`) ?? 'TCP';
    if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') {
      throw new ManifestError(`${f}.protocol`, `Unsupported value: "${protocol}": supported values: "SCTP", "TCP", "UDP"`);
    }
    const containerPort = int(po['containerPort'], `${f}.containerPort`, 1, 65535);
    if (containerPort === undefined) throw new ManifestError(`${f}.containerPort`, 'Required value');
    return {
      name: str(po['name'], `${f}.name`) ?? '',
      containerPort,
      hostPort: int(po['hostPort'], `${f}.hostPort`, 0, 65535) ?? 0,
      hostIP: str(po['hostIP'], `${f}.hostIP`) ?? '',
      protocol,
    };
  });

  const volumeMounts = arr(o['volumeMounts'], `${field}.volumeMounts`).map((m, i): VolumeMount => {
    const f = `${field}.volumeMounts[${i}]`;
    const mo = obj(m, f);
    const vname = str(mo['name'], `${f}.name`, true)!;
    if (!volumes.has(vname)) throw new ManifestError(`${f}.name`, `Not found: "${vname}" (no volume of that name in spec.volumes)`);
    const mountPath = str(mo['mountPath'], `${f}.mountPath`, true)!;
    if (!mountPath.startsWith('/')) throw new ManifestError(`${f}.mountPath`, `Invalid value "${mountPath}": must be an absolute path`);
    const subPath = str(mo['subPath'], `${f}.subPath`) ?? '';
    if (subPath.startsWith('/') || subPath.split('/').includes('..')) {
      throw new ManifestError(`${f}.subPath`, `Invalid value "${subPath}": must be a relative path without '..'`);
    }
    if (mo['mountPropagation'] !== undefined && mo['mountPropagation'] !== 'None') {
      throw new ManifestError(`${f}.mountPropagation`, 'not supported by vnode run (mounts are private to the vNode)');
    }
    return { name: vname, mountPath, readOnly: bool(mo['readOnly'], `${f}.readOnly`) ?? false, subPath };
  });

  const sc = obj(o['securityContext'], `${field}.securityContext`);
  const caps = obj(sc['capabilities'], `${field}.securityContext.capabilities`);
  const privileged = bool(sc['privileged'], `${field}.securityContext.privileged`);
  const runAsUser = int(sc['runAsUser'], `${field}.securityContext.runAsUser`);
  const runAsGroup = int(sc['runAsGroup'], `${field}.securityContext.runAsGroup`);
  const readOnlyRootFilesystem = bool(sc['readOnlyRootFilesystem'], `${field}.securityContext.readOnlyRootFilesystem`);
  const allowPrivilegeEscalation = bool(sc['allowPrivilegeEscalation'], `${field}.securityContext.allowPrivilegeEscalation`);
  const seccompProfile = seccomp(sc['seccompProfile'], `${field}.securityContext.seccompProfile`);

  return {
    name,
    image,
    command: strList(o['command'], `${field}.command`),
    args: strList(o['args'], `${field}.args`),
    env,
    workingDir: str(o['workingDir'], `${field}.workingDir`) ?? '',
    ports,
    volumeMounts,
    resources: resources(o['resources'], `${field}.resources`),
    tty: bool(o['tty'], `${field}.tty`) ?? false,
    stdin: bool(o['stdin'], `${field}.stdin`) ?? false,
    stdinOnce: bool(o['stdinOnce'], `${field}.stdinOnce`) ?? false,
    securityContext: {
      ...(privileged !== undefined ? { privileged } : {}),
      ...(runAsUser !== undefined ? { runAsUser } : {}),
      ...(runAsGroup !== undefined ? { runAsGroup } : {}),
      ...(readOnlyRootFilesystem !== undefined ? { readOnlyRootFilesystem } : {}),
      ...(allowPrivilegeEscalation !== undefined ? { allowPrivilegeEscalation } : {}),
      ...(seccompProfile ? { seccompProfile } : {}),
      capabilities: {
        add: strList(caps['add'], `${field}.securityContext.capabilities.add`),
        drop: strList(caps['drop'], `${field}.securityContext.capabilities.drop`),
      },
    },
  };
}

// ---- volumes -------------------------------------------------------------------------------

const HOSTPATH_TYPES = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];

function volume(v: unknown, field: string): PodVolume {
  const o = obj(v, field);
  const name = dnsLabel(str(o['name'], `${field}.name`, true)!, `${field}.name`);
  const sources = Object.keys(o).filter((k) => k !== 'name');
  if (sources.length === 0) throw new ManifestError(field, 'must specify a volume type (vnode run supports hostPath and emptyDir)');
  if (sources.length > 1) throw new ManifestError(field, `may not specify more than 1 volume type (got ${sources.join(', ')})`);
  const kind = sources[0]!;
  if (kind === 'hostPath') {
    const h = obj(o['hostPath'], `${field}.hostPath`);
    const path = str(h['path'], `${field}.hostPath.path`, true)!;
    if (!path.startsWith('/')) throw new ManifestError(`${field}.hostPath.path`, `Invalid value "${path}": must be an absolute path`);
    const type = str(h['type'], `${field}.hostPath.type`) ?? '';
    if (!HOSTPATH_TYPES.includes(type)) {
      throw new ManifestError(`${field}.hostPath.type`, `Unsupported value: "${type}": supported values: ${HOSTPATH_TYPES.filter(Boolean).map((t) => `"${t}"`).join(', ')}`);
    }
    return { name, hostPath: { path, type } };
  }
  if (kind === 'emptyDir') {
    const e = obj(o['emptyDir'], `${field}.emptyDir`);
    const medium = str(e['medium'], `${field}.emptyDir.medium`) ?? '';
    if (medium !== '' && medium !== 'Memory') throw new ManifestError(`${field}.emptyDir.medium`, `Unsupported value: "${medium}": supported values: "", "Memory"`);
    return { name, emptyDir: { medium } };
  }
  throw new ManifestError(`${field}.${kind}`, `volume type ${kind} is not supported by vnode run: only hostPath and emptyDir volumes (there is no cluster to provide it)`);
}

// ---- the pod -------------------------------------------------------------------------------

const IGNORED_POD_FIELDS = ['nodeSelector', 'affinity', 'tolerations', 'priorityClassName', 'priority', 'schedulerName', 'serviceAccountName', 'serviceAccount',
  'automountServiceAccountToken', 'dnsPolicy', 'dnsConfig', 'enableServiceLinks', 'imagePullSecrets', 'topologySpreadConstraints', 'nodeName'];
const UNSUPPORTED_POD_FIELDS: Record<string, string> = {
  ephemeralContainers: 'ephemeral containers need an API server',
  hostUsers: 'every pod of vnode runs in a user namespace already (its vNode)',
  os: 'vnode runs Linux pods only',
  overhead: 'pod overhead comes from a RuntimeClass in a cluster',
  resourceClaims: 'dynamic resource allocation needs a cluster',
  hostAliases: 'not supported by vnode run yet',
};

/** Parses and checks a Pod manifest. `uid` is used when the manifest has none (kubelet's static pods hash it; we make one up). */
export function parsePodManifest(text: string, uid: string = randomUUID()): PodManifest {
  let docs;
  try {
    docs = parseAllDocuments(text).filter((d) => d.contents !== null);
  } catch (err) {
    throw new ManifestError('', `not valid YAML: ${(err as Error).message}`);
  }
  if (docs.length === 0) throw new ManifestError('', 'the manifest is empty: expected one Pod');
  if (docs.length > 1) throw new ManifestError('', `the manifest holds ${docs.length} documents: vnode run takes exactly one Pod`);
  const doc = docs[0]!;
  if (doc.errors.length > 0) throw new ManifestError('', `not valid YAML: ${doc.errors[0]!.message}`);
  const root = doc.toJS() as unknown;
  if (!isObj(root)) throw new ManifestError('', `expected a Pod object (got ${typeName(root)})`);
  return podFromObject(root, uid);
}

export function podFromObject(root: Obj, uid: string = randomUUID()): PodManifest {
  const kind = str(root['kind'], 'kind', true)!;
  if (kind !== 'Pod') throw new ManifestError('kind', `Invalid value "${kind}": vnode run takes a Pod (a ${kind} needs a cluster's controllers)`);
  const apiVersion = str(root['apiVersion'], 'apiVersion', true)!;
  if (apiVersion !== 'v1') throw new ManifestError('apiVersion', `Invalid value "${apiVersion}": a Pod is apiVersion v1`);

  const meta = obj(root['metadata'], 'metadata');
  const name = dnsSubdomain(str(meta['name'], 'metadata.name', true)!, 'metadata.name');
  const namespace = dnsLabel(str(meta['namespace'], 'metadata.namespace') ?? 'default', 'metadata.namespace');
  const podUid = str(meta['uid'], 'metadata.uid') ?? uid;
  const labels = strMap(meta['labels'], 'metadata.labels');
  const annotations = strMap(meta['annotations'], 'metadata.annotations');

  const spec = obj(root['spec'], 'spec');
  if (root['spec'] === undefined) throw new ManifestError('spec', 'Required value');
  const ignored: string[] = [];
  for (const [key, why] of Object.entries(UNSUPPORTED_POD_FIELDS)) {
    if (spec[key] !== undefined) throw new ManifestError(`spec.${key}`, `not supported by vnode run: ${why}`);
  }
  for (const key of IGNORED_POD_FIELDS) if (spec[key] !== undefined) ignored.push(`spec.${key}`);

  const volumes = new Map<string, PodVolume>();
  arr(spec['volumes'], 'spec.volumes').forEach((v, i) => {
    const vol = volume(v, `spec.volumes[${i}]`);
    if (volumes.has(vol.name)) throw new ManifestError(`spec.volumes[${i}].name`, `Duplicate value: "${vol.name}"`);
    volumes.set(vol.name, vol);
  });

  const names = new Set<string>();
  const list = (key: 'containers' | 'initContainers') =>
    arr(spec[key], `spec.${key}`).map((c, i) => {
      const spec = container(c, `spec.${key}[${i}]`, volumes, ignored);
      if (names.has(spec.name)) throw new ManifestError(`spec.${key}[${i}].name`, `Duplicate value: "${spec.name}"`);
      names.add(spec.name);
      return spec;
    });
  const initContainers = list('initContainers');
  const containers = list('containers');
  if (containers.length === 0) throw new ManifestError('spec.containers', 'Required value: a Pod needs at least one container');

  const restartPolicy = str(spec['restartPolicy'], 'spec.restartPolicy') ?? 'Always';
  if (restartPolicy !== 'Always' && restartPolicy !== 'OnFailure' && restartPolicy !== 'Never') {
    throw new ManifestError('spec.restartPolicy', `Unsupported value: "${restartPolicy}": supported values: "Always", "OnFailure", "Never"`);
  }

  const psc = obj(spec['securityContext'], 'spec.securityContext');
  const sysctls: Record<string, string> = {};
  arr(psc['sysctls'], 'spec.securityContext.sysctls').forEach((s, i) => {
    const f = `spec.securityContext.sysctls[${i}]`;
    const so = obj(s, f);
    sysctls[str(so['name'], `${f}.name`, true)!] = str(so['value'], `${f}.value`) ?? '';
  });
  const runAsUser = int(psc['runAsUser'], 'spec.securityContext.runAsUser');
  const runAsGroup = int(psc['runAsGroup'], 'spec.securityContext.runAsGroup');
  const seccompProfile = seccomp(psc['seccompProfile'], 'spec.securityContext.seccompProfile');
  const supplementalGroups = arr(psc['supplementalGroups'], 'spec.securityContext.supplementalGroups')
    .map((g, i) => int(g, `spec.securityContext.supplementalGroups[${i}]`)!);
  const hostname = str(spec['hostname'], 'spec.hostname');
  if (hostname) dnsLabel(hostname, 'spec.hostname');
  const runtimeClassName = str(spec['runtimeClassName'], 'spec.runtimeClassName');

  return {
    name,
    namespace,
    uid: podUid,
    labels,
    annotations,
    ...(runtimeClassName ? { runtimeClassName } : {}),
    restartPolicy,
    hostNetwork: bool(spec['hostNetwork'], 'spec.hostNetwork') ?? false,
    hostPID: bool(spec['hostPID'], 'spec.hostPID') ?? false,
    hostIPC: bool(spec['hostIPC'], 'spec.hostIPC') ?? false,
    shareProcessNamespace: bool(spec['shareProcessNamespace'], 'spec.shareProcessNamespace') ?? false,
    ...(hostname ? { hostname } : {}),
    terminationGracePeriodSeconds: int(spec['terminationGracePeriodSeconds'], 'spec.terminationGracePeriodSeconds') ?? 30,
    securityContext: {
      ...(runAsUser !== undefined ? { runAsUser } : {}),
      ...(runAsGroup !== undefined ? { runAsGroup } : {}),
      supplementalGroups,
      sysctls,
      ...(seccompProfile ? { seccompProfile } : {}),
    },
    volumes: [...volumes.values()],
    initContainers,
    containers,
    ignored,
  };
}

/**
 * vNodes cannot give a pod a port on the host (DESIGN.md): refuse hostPort/hostIP before
 * anything is created, naming the pod, the container and the port.
 */
export function checkNoHostPorts(pod: PodManifest): void {
  const all = [...pod.initContainers.map((c, i) => ({ c, f: `spec.initContainers[${i}]` })), ...pod.containers.map((c, i) => ({ c, f: `spec.containers[${i}]` }))];
  for (const { c, f } of all) {
    c.ports.forEach((p, i) => {
      if (p.hostPort !== 0 || p.hostIP !== '') {
        const what = p.hostPort !== 0 ? `hostPort ${p.hostPort}` : `hostIP ${p.hostIP}`;
        throw new ManifestError(
          `${f}.ports[${i}]`,
          `pod ${pod.namespace}/${pod.name}, container ${c.name}, port ${p.containerPort}/${p.protocol}: ${what} is not supported in a vNode ` +
            '(a pod cannot take a port of the host); remove hostPort/hostIP and reach the pod at its own IP',
        );
      }
    });
  }
}
