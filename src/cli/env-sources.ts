// A container's environment as kubelet builds it (kuberuntime's makeEnvironmentVariables):
// `envFrom` sources first, in order, then `env`; a later variable of the same name
// replaces an earlier one. Values come from `value`, from ConfigMap/Secret keys
// (configMapKeyRef/secretKeyRef, the objects of the same manifest) or from the pod's
// metadata (fieldRef). A missing object or key that is not optional is an error with
// kubelet's CreateContainerConfigError wording. Pure.
import { ConfigObjects, envData, notFoundText, type ConfigKind } from './config-objects.js';
import { downwardValue } from './downward.js';
import { checkDownwardField } from './manifest-volumes.js';
import { ManifestError, arr, bool, obj, str, typeName, type Obj } from './manifest-fields.js';

export interface EnvVar {
  name: string;
  value: string;
}

/** What of the pod an env fieldRef can read. */
export interface PodFacts {
  name: string;
  namespace: string;
  uid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceAccountName: string;
}

function keyRef(o: Obj, field: string, kind: ConfigKind, pod: PodFacts, objects: ConfigObjects): string | undefined {
  const name = str(o['name'], `${field}.name`, true)!;
  const key = str(o['key'], `${field}.key`, true)!;
  const optional = bool(o['optional'], `${field}.optional`) ?? false;
  const found = objects.get(kind, pod.namespace, name);
  if (!found) {
    if (optional) return undefined;
    throw new ManifestError(`${field}.name`, notFoundText(objects, kind, pod.namespace, name));
  }
  const value = found.binaryKeys.has(key) ? undefined : found.data.get(key);
  if (value === undefined) {
    if (optional) return undefined;
    throw new ManifestError(`${field}.key`, `couldn't find key ${key} in ${kind} ${pod.namespace}/${name}`);
  }
  return value.toString('utf8');
}

export function resolveEnv(o: Obj, field: string, pod: PodFacts, objects: ConfigObjects): EnvVar[] {
  const env = new Map<string, string>();

  arr(o['envFrom'], `${field}.envFrom`).forEach((e, i) => {
    const f = `${field}.envFrom[${i}]`;
    const eo = obj(e, f);
    const prefix = str(eo['prefix'], `${f}.prefix`) ?? '';
    const refs = (['configMapRef', 'secretRef'] as const).filter((k) => eo[k] !== undefined);
    if (refs.length !== 1) throw new ManifestError(f, refs.length === 0 ? 'must specify one of: `configMapRef` or `secretRef`' : 'may not have more than one field specified at a time');
    const ref = refs[0]!;
    const kind: ConfigKind = ref === 'configMapRef' ? 'ConfigMap' : 'Secret';
    const ro = obj(eo[ref], `${f}.${ref}`);
    const name = str(ro['name'], `${f}.${ref}.name`, true)!;
    const found = objects.get(kind, pod.namespace, name);
    if (!found) {
      if (bool(ro['optional'], `${f}.${ref}.optional`)) return;
      throw new ManifestError(`${f}.${ref}.name`, notFoundText(objects, kind, pod.namespace, name));
    }
    for (const [k, v] of envData(found)) env.set(prefix + k, v);
  });

  arr(o['env'], `${field}.env`).forEach((e, i) => {
    const f = `${field}.env[${i}]`;
    const eo = obj(e, f);
    const name = str(eo['name'], `${f}.name`, true)!;
    if (eo['valueFrom'] !== undefined) {
      if (eo['value'] !== undefined && eo['value'] !== '') throw new ManifestError(`${f}.valueFrom`, 'Invalid value: may not be specified when `value` is not empty');
      const vf = obj(eo['valueFrom'], `${f}.valueFrom`);
      const kinds = Object.keys(vf);
      if (kinds.length !== 1) throw new ManifestError(`${f}.valueFrom`, 'may not have more than one field specified at a time');
      const kind = kinds[0]!;
      const sf = `${f}.valueFrom.${kind}`;
      const src = obj(vf[kind], sf);
      let value: string | undefined;
      if (kind === 'configMapKeyRef') value = keyRef(src, sf, 'ConfigMap', pod, objects);
      else if (kind === 'secretKeyRef') value = keyRef(src, sf, 'Secret', pod, objects);
      else if (kind === 'fieldRef') {
        const path = checkDownwardField(str(src['fieldPath'], `${sf}.fieldPath`, true)!, `${sf}.fieldPath`, ['spec.serviceAccountName']);
        value = path === 'spec.serviceAccountName' ? pod.serviceAccountName : downwardValue(pod, path);
      } else {
        throw new ManifestError(sf, `not supported by vnode run: configMapKeyRef, secretKeyRef and fieldRef (metadata.*) are`);
      }
      if (value !== undefined) env.set(name, value);
      return;
    }
    const value = eo['value'];
    if (value !== undefined && value !== null && typeof value !== 'string') {
      throw new ManifestError(`${f}.value`, `must be a string (got ${typeName(value)}; quote it in YAML)`);
    }
    env.set(name, (value as string | undefined) ?? '');
  });

  return [...env].map(([name, value]) => ({ name, value }));
}
