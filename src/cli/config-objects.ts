// ConfigMap and Secret documents that come in the same multi-document YAML as the Pod
// (as `podman kube play` takes them): checked as the API server validates them and
// decoded to bytes (Secret `data` and ConfigMap `binaryData` are base64; Secret
// `stringData` is merged over `data`, as the API server does on write). Pure.
import { ManifestError, dnsLabel, dnsSubdomain, obj, str, strMap, typeName, type Obj } from './manifest-fields.js';

export type ConfigKind = 'ConfigMap' | 'Secret';

export interface ConfigObject {
  kind: ConfigKind;
  /** The namespace the object is in: its own metadata.namespace, else the Pod's. */
  namespace: string;
  name: string;
  /** Key → content. */
  data: Map<string, Buffer>;
  /** Keys of a ConfigMap's binaryData: files in volumes, but never env (kubelet reads env from `data` only). */
  binaryKeys: Set<string>;
}

/** The ConfigMaps and Secrets of a manifest, found by kind, namespace and name. */
export class ConfigObjects {
  private readonly byKey = new Map<string, ConfigObject>();

  constructor(objects: ConfigObject[] = []) {
    for (const o of objects) this.byKey.set(ConfigObjects.key(o.kind, o.namespace, o.name), o);
  }

  private static key(kind: ConfigKind, namespace: string, name: string): string {
    return `${kind}/${namespace}/${name}`;
  }

  get(kind: ConfigKind, namespace: string, name: string): ConfigObject | undefined {
    return this.byKey.get(ConfigObjects.key(kind, namespace, name));
  }

  /** Namespaces other than `namespace` that hold an object of this kind and name (for the "not found" hint). */
  elsewhere(kind: ConfigKind, namespace: string, name: string): string[] {
    return [...this.byKey.values()].filter((o) => o.kind === kind && o.name === name && o.namespace !== namespace).map((o) => o.namespace);
  }

  all(): ConfigObject[] {
    return [...this.byKey.values()];
  }
}

// The API server's IsConfigMapKey: what may name a key of a ConfigMap or Secret (it becomes a file name).
const CONFIG_KEY = /^[-._a-zA-Z0-9]+$/;

export function checkConfigKey(key: string, field: string): void {
  if (key.length > 253 || !CONFIG_KEY.test(key)) {
    throw new ManifestError(field, `Invalid value: "${key}": a valid config key must consist of alphanumeric characters, '-', '_' or '.' (at most 253)`);
  }
  if (key === '.' || key === '..' || key.startsWith('..')) {
    throw new ManifestError(field, `Invalid value: "${key}": must not be '.' or '..' and must not start with '..'`);
  }
}

// Standard base64 with padding, as Go's encoding/json decodes []byte (it skips \r and \n).
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function base64(v: unknown, field: string): Buffer {
  if (typeof v !== 'string') throw new ManifestError(field, `must be a base64 string (got ${typeName(v)})`);
  const text = v.replace(/[\r\n]/g, '');
  if (!BASE64.test(text)) throw new ManifestError(field, 'Invalid value: illegal base64 data (a Secret\'s data and a ConfigMap\'s binaryData are base64; use stringData or data for plain text)');
  return Buffer.from(text, 'base64');
}

/**
 * One ConfigMap or Secret document. `where` names the document in errors
 * ("document 2"); fields are reported as `ConfigMap "name": data[key]`, the way the API
 * server names them ("The ConfigMap "x" is invalid: data[key]: ...").
 */
export function configObjectFrom(root: Obj, where: string, podNamespace: string): ConfigObject {
  const kind = root['kind'] as ConfigKind;
  const apiVersion = str(root['apiVersion'], `${where}: apiVersion`, true)!;
  if (apiVersion !== 'v1') throw new ManifestError(`${where}: apiVersion`, `Invalid value "${apiVersion}": a ${kind} is apiVersion v1`);
  const meta = obj(root['metadata'], `${where}: metadata`);
  const name = dnsSubdomain(str(meta['name'], `${where}: metadata.name`, true)!, `${where}: metadata.name`);
  const namespace = dnsLabel(str(meta['namespace'], `${kind} "${name}": metadata.namespace`) ?? podNamespace, `${kind} "${name}": metadata.namespace`);
  const at = (f: string) => `${kind} "${name}": ${f}`;
  const data = new Map<string, Buffer>();
  const binaryKeys = new Set<string>();
  const put = (key: string, value: Buffer, field: string) => {
    checkConfigKey(key, field);
    data.set(key, value);
  };

  if (kind === 'ConfigMap') {
    for (const [k, v] of Object.entries(strMap(root['data'], at('data')))) put(k, Buffer.from(v, 'utf8'), at(`data[${k}]`));
    for (const [k, v] of Object.entries(obj(root['binaryData'], at('binaryData')))) {
      if (data.has(k)) throw new ManifestError(at(`binaryData[${k}]`), `Invalid value: "${k}": duplicate of key present in data`);
      put(k, base64(v, at(`binaryData[${k}]`)), at(`binaryData[${k}]`));
      binaryKeys.add(k);
    }
  } else {
    str(root['type'], at('type')); // any type (Opaque, kubernetes.io/tls, ...): the files are the same
    for (const [k, v] of Object.entries(obj(root['data'], at('data')))) put(k, base64(v, at(`data[${k}]`)), at(`data[${k}]`));
    // stringData is write-only convenience: merged over data, its values win
    for (const [k, v] of Object.entries(strMap(root['stringData'], at('stringData')))) put(k, Buffer.from(v, 'utf8'), at(`stringData[${k}]`));
  }
  return { kind, namespace, name, data, binaryKeys };
}

/** The key/value pairs env may take from an object: a ConfigMap's `data` (not binaryData), a Secret's `data`. */
export function envData(o: ConfigObject): [string, string][] {
  return [...o.data].filter(([k]) => !o.binaryKeys.has(k)).map(([k, v]) => [k, v.toString('utf8')]);
}

/** kubelet's wording when a referenced object is missing ("configmap "x" not found"), with where we looked. */
export function notFoundText(objects: ConfigObjects, kind: ConfigKind, namespace: string, name: string): string {
  const others = objects.elsewhere(kind, namespace, name);
  const hint = others.length > 0
    ? `there is a ${kind} "${name}" in namespace ${others.join(', ')}, not in the pod's namespace ${namespace}`
    : `no ${kind} "${name}" in namespace ${namespace} in the manifest; add one as another YAML document (---)`;
  return `${kind.toLowerCase()} "${name}" not found (${hint})`;
}
