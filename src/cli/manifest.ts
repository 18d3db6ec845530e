// Reads a Kubernetes Pod manifest (YAML or JSON) into the subset `vnode run` supports,
// checking every field it uses. Errors name the field as kubectl does
// ("spec.containers[0].image: Required value"). Pure: no I/O besides the text given.
import { randomUUID } from 'node:crypto';
import { parseAllDocuments, type ScalarTag } from 'yaml';
import { ConfigObjects, configObjectFrom, type ConfigObject } from './config-objects.js';
import { resolveEnv, type PodFacts } from './env-sources.js';
import { ManifestError, arr, bool, dnsLabel, dnsSubdomain, int, isObj, obj, str, strList, strMap, typeName, type Obj } from './manifest-fields.js';
import { podVolume, type PodVolume } from './manifest-volumes.js';

export { ManifestError } from './manifest-fields.js';
export type { PodVolume } from './manifest-volumes.js';

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
  /** spec.serviceAccountName (or the deprecated serviceAccount), else "default": the subject of a projected token. */
  serviceAccountName: string;
  /** The ConfigMaps and Secrets of the same manifest (volumes and env refer to them). */
  objects: ConfigObjects;
  /** Fields that are valid Kubernetes but have no effect here (probes, nodeSelector, ...). */
  ignored: string[];
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
  volumeDevices: 'block devices are not supported',
};

function container(v: unknown, field: string, volumes: Map<string, PodVolume>, ignored: string[], facts: PodFacts, objects: ConfigObjects): ContainerSpec {
  const o = obj(v, field);
  const name = dnsLabel(str(o['name'], `${field}.name`, true)!, `${field}.name`);
  const image = str(o['image'], `${field}.image`, true)!;
  for (const [key, why] of Object.entries(UNSUPPORTED_CONTAINER_FIELDS)) {
    if (o[key] !== undefined) throw new ManifestError(`${field}.${key}`, `not supported by vnode run: ${why}`);
  }
  for (const key of IGNORED_CONTAINER_FIELDS) if (o[key] !== undefined) ignored.push(`${field}.${key}`);

  const env = resolveEnv(o, field, facts, objects);

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

// ---- the pod -------------------------------------------------------------------------------

const IGNORED_POD_FIELDS = ['nodeSelector', 'affinity', 'tolerations', 'priorityClassName', 'priority', 'schedulerName',
  'automountServiceAccountToken', 'dnsPolicy', 'dnsConfig', 'enableServiceLinks', 'imagePullSecrets', 'topologySpreadConstraints', 'nodeName'];
const UNSUPPORTED_POD_FIELDS: Record<string, string> = {
  ephemeralContainers: 'ephemeral containers need an API server',
  hostUsers: 'every pod of vnode runs in a user namespace already (its vNode)',
  os: 'vnode runs Linux pods only',
  overhead: 'pod overhead comes from a RuntimeClass in a cluster',
  resourceClaims: 'dynamic resource allocation needs a cluster',
  hostAliases: 'not supported by vnode run yet',
};

/** YAML 1.1's octal ints (0400): Kubernetes manifests write file modes that way. */
const LEGACY_OCTAL: ScalarTag = {
  tag: 'tag:yaml.org,2002:int',
  default: true,
  test: /^0[0-7]+$/,
  resolve: (s: string) => parseInt(s, 8),
};

/**
 * Parses and checks a manifest: one Pod, and the ConfigMaps and Secrets it uses as further
 * YAML documents (as `podman kube play` takes them). `defaultMode: 0400` is octal, as
 * kubectl reads it (YAML 1.1 ints); the rest is YAML 1.2, whose `y`/`no` stay strings. `uid` is used when the Pod has none (kubelet's static
 * pods hash it; we make one up).
 */
export function parsePodManifest(text: string, uid: string = randomUUID()): PodManifest {
  let docs;
  try {
    docs = parseAllDocuments(text, { customTags: (tags) => [LEGACY_OCTAL, ...(tags as ScalarTag[])] });
  } catch (err) {
    throw new ManifestError('', `not valid YAML: ${(err as Error).message}`);
  }
  if (!Array.isArray(docs)) docs = [docs];
  const roots: { root: Obj; where: string }[] = [];
  docs.forEach((doc, i) => {
    if (doc.errors.length > 0) throw new ManifestError('', `not valid YAML${docs.length > 1 ? ` (document ${i + 1})` : ''}: ${doc.errors[0]!.message}`);
    if (doc.contents === null) return;
    const root = doc.toJS() as unknown;
    const where = `document ${i + 1}`;
    if (!isObj(root)) throw new ManifestError('', `${where}: expected a Pod, ConfigMap or Secret object (got ${typeName(root)})`);
    roots.push({ root, where });
  });
  if (roots.length === 0) throw new ManifestError('', 'the manifest is empty: expected one Pod');
  const pods = roots.filter((r) => r.root['kind'] === 'Pod');
  const others = roots.filter((r) => r.root['kind'] !== 'Pod');
  if (roots.length === 1) return podFromObject(roots[0]!.root, uid);
  if (pods.length === 0) throw new ManifestError('', `the manifest holds ${roots.length} documents and no Pod: vnode run takes exactly one Pod (and the ConfigMaps and Secrets it uses)`);
  if (pods.length > 1) throw new ManifestError('', `the manifest holds ${pods.length} Pods (${pods.map((p) => p.where).join(', ')}): vnode run takes exactly one Pod`);
  for (const o of others) {
    const kind = str(o.root['kind'], `${o.where}: kind`, true)!;
    if (kind !== 'ConfigMap' && kind !== 'Secret') {
      throw new ManifestError(`${o.where}: kind`, `Invalid value "${kind}": vnode run takes one Pod and the ConfigMaps and Secrets it uses`);
    }
  }
  const podNamespace = str(obj(pods[0]!.root['metadata'], 'metadata')['namespace'], 'metadata.namespace') ?? 'default';
  const objects: ConfigObject[] = [];
  const seen = new Set<string>();
  for (const o of others) {
    const c = configObjectFrom(o.root, o.where, podNamespace);
    const key = `${c.kind}/${c.namespace}/${c.name}`;
    if (seen.has(key)) throw new ManifestError(`${o.where}: metadata.name`, `Duplicate value: ${c.kind} "${c.name}" in namespace ${c.namespace} is in the manifest twice`);
    seen.add(key);
    objects.push(c);
  }
  return podFromObject(pods[0]!.root, uid, new ConfigObjects(objects));
}

export function podFromObject(root: Obj, uid: string = randomUUID(), objects: ConfigObjects = new ConfigObjects()): PodManifest {
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
    const vol = podVolume(v, `spec.volumes[${i}]`);
    if (volumes.has(vol.name)) throw new ManifestError(`spec.volumes[${i}].name`, `Duplicate value: "${vol.name}"`);
    volumes.set(vol.name, vol);
  });

  const serviceAccountName = str(spec['serviceAccountName'], 'spec.serviceAccountName') ?? str(spec['serviceAccount'], 'spec.serviceAccount') ?? 'default';
  const facts: PodFacts = { name, namespace, uid: podUid, labels, annotations, serviceAccountName };
  const names = new Set<string>();
  const list = (key: 'containers' | 'initContainers') =>
    arr(spec[key], `spec.${key}`).map((c, i) => {
      const spec = container(c, `spec.${key}[${i}]`, volumes, ignored, facts, objects);
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
    serviceAccountName,
    objects,
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
