// What kubelet writes into a configMap, secret, downwardAPI or projected volume, and
// how it lays it out (its AtomicWriter): the files go into a timestamped directory
// `..YYYY_MM_DD_HH_MM_SS.<random>`, a `..data` symlink points at it, and each top-level
// name is a symlink through `..data` (`key -> ..data/key`), so that an update is one
// rename of `..data`. Secrets and projected volumes are kept on tmpfs (never on disk),
// configMaps and downwardAPI volumes on disk. Pure: the time and the random suffix come
// in as arguments.
import { join } from 'node:path';
import { ConfigObjects, notFoundText, type ConfigKind } from './config-objects.js';
import { downwardValue } from './downward.js';
import { ManifestError } from './manifest-fields.js';
import type { DownwardFile, KeyToPath, ObjectSource, PodVolume, TokenSource } from './manifest-volumes.js';

/** The pod as a volume's contents see it. */
export interface VolumePod {
  name: string;
  namespace: string;
  uid: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  serviceAccountName: string;
  objects: ConfigObjects;
}

export interface VolumeFile {
  /** Relative to the volume's directory, as the pod sees it. */
  path: string;
  mode: number;
  data: Buffer;
}

export type VolumeKind = 'configMap' | 'secret' | 'downwardAPI' | 'projected';

export interface VolumeContent {
  volume: string;
  kind: VolumeKind;
  /** On tmpfs (secret, projected), as kubelet keeps them out of the node's disks. */
  tmpfs: boolean;
  files: VolumeFile[];
}

/** kubelet's plugin directory names under <pod dir>/volumes/. */
const PLUGIN_DIR: Record<VolumeKind, string> = {
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
};

export function volumeKind(v: PodVolume): VolumeKind | undefined {
  if (v.configMap) return 'configMap';
  if (v.secret) return 'secret';
  if (v.downwardAPI) return 'downwardAPI';
  if (v.projected) return 'projected';
  return undefined;
}

/** Host directory of such a volume, where kubelet keeps it: <pod dir>/volumes/kubernetes.io~secret/<name>. */
export function objectVolumePath(podDir: string, kind: VolumeKind, volume: string): string {
  return join(podDir, 'volumes', PLUGIN_DIR[kind], volume);
}

function fieldOf(index: number, rest: string): string {
  return `spec.volumes[${index}].${rest}`;
}

/** The files of one ConfigMap/Secret source: every key, or the `items` chosen. */
function objectFiles(pod: VolumePod, kind: ConfigKind, src: ObjectSource, defaultMode: number, volume: string, field: string, nameKey = 'name'): VolumeFile[] {
  const found = pod.objects.get(kind, pod.namespace, src.name);
  if (!found) {
    if (src.optional) return [];
    // kubelet's event: MountVolume.SetUp failed for volume "v" : configmap "x" not found
    throw new ManifestError(`${field}.${nameKey}`,
      `MountVolume.SetUp failed for volume "${volume}" : ${notFoundText(pod.objects, kind, pod.namespace, src.name)}`);
  }
  if (src.items.length === 0) {
    return [...found.data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([key, data]) => ({ path: key, mode: defaultMode, data }));
  }
  const out: VolumeFile[] = [];
  src.items.forEach((it: KeyToPath, i) => {
    const data = found.data.get(it.key);
    if (data === undefined) {
      if (src.optional) return;
      const what = kind === 'Secret' ? 'secret' : 'config';
      throw new ManifestError(`${field}.items[${i}].key`,
        `MountVolume.SetUp failed for volume "${volume}" : ${kind.toLowerCase()} "${src.name}" references non-existent ${what} key: ${it.key}`);
    }
    out.push({ path: it.path, mode: it.mode ?? defaultMode, data });
  });
  return out;
}

function downwardFiles(pod: VolumePod, items: DownwardFile[], defaultMode: number): VolumeFile[] {
  return items.map((it) => ({ path: it.path, mode: it.mode ?? defaultMode, data: Buffer.from(downwardValue(pod, it.fieldPath), 'utf8') }));
}

const b64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

/** The audience a token gets without one: the API server's usual default. */
export const DEFAULT_TOKEN_AUDIENCE = 'https://kubernetes.default.svc.cluster.local';

/**
 * A service-account token as kubelet would project it, but FAKE: there is no API server
 * to sign one. It is a well-formed JWT with the claims of a real bound token
 * (iss, sub system:serviceaccount:<ns>:<name>, aud, exp/iat/nbf, kubernetes.io.pod),
 * "alg": "none" and an empty signature, so that no verifier accepts it.
 */
export function fakeServiceAccountToken(pod: VolumePod, t: TokenSource, nowSec: number): string {
  const header = { alg: 'none', typ: 'JWT', kid: 'vnode-run-unsigned' };
  const claims = {
    aud: [t.audience || DEFAULT_TOKEN_AUDIENCE],
    exp: nowSec + t.expirationSeconds,
    iat: nowSec,
    nbf: nowSec,
    iss: 'vnode-run (no cluster: this token is not signed and no API server accepts it)',
    sub: `system:serviceaccount:${pod.namespace}:${pod.serviceAccountName}`,
    'kubernetes.io': {
      namespace: pod.namespace,
      pod: { name: pod.name, uid: pod.uid },
      serviceaccount: { name: pod.serviceAccountName, uid: '00000000-0000-0000-0000-000000000000' },
    },
  };
  return `${b64url(header)}.${b64url(claims)}.`;
}

/** The contents of a configMap/secret/downwardAPI/projected volume (undefined for other kinds). Errors name the volume and the object. */
export function volumeContent(pod: VolumePod, v: PodVolume, index: number, nowSec: number): VolumeContent | undefined {
  const kind = volumeKind(v);
  if (!kind) return undefined;
  let files: VolumeFile[];
  if (v.configMap) {
    files = objectFiles(pod, 'ConfigMap', v.configMap, v.configMap.defaultMode, v.name, fieldOf(index, 'configMap'));
  } else if (v.secret) {
    files = objectFiles(pod, 'Secret', v.secret, v.secret.defaultMode, v.name, fieldOf(index, 'secret'), 'secretName');
  } else if (v.downwardAPI) {
    files = downwardFiles(pod, v.downwardAPI.items, v.downwardAPI.defaultMode);
  } else {
    const p = v.projected!;
    files = [];
    const owner = new Map<string, string>();
    p.sources.forEach((s, i) => {
      const f = fieldOf(index, `projected.sources[${i}]`);
      let got: VolumeFile[];
      if ('configMap' in s) got = objectFiles(pod, 'ConfigMap', s.configMap, p.defaultMode, v.name, `${f}.configMap`);
      else if ('secret' in s) got = objectFiles(pod, 'Secret', s.secret, p.defaultMode, v.name, `${f}.secret`);
      else if ('downwardAPI' in s) got = downwardFiles(pod, s.downwardAPI.items, p.defaultMode);
      else got = [{ path: s.serviceAccountToken.path, mode: p.defaultMode, data: Buffer.from(fakeServiceAccountToken(pod, s.serviceAccountToken, nowSec)) }];
      for (const file of got) {
        const prev = owner.get(file.path);
        if (prev !== undefined) throw new ManifestError(f, `Invalid value: "${file.path}": conflicting duplicate paths (also written by ${prev})`);
        owner.set(file.path, `sources[${i}]`);
      }
      files.push(...got);
    });
  }
  checkNoNesting(files, v.name, index);
  return { volume: v.name, kind, tmpfs: kind === 'secret' || kind === 'projected', files };
}

/** Two items where one path is a directory of the other ("a" and "a/b") cannot both be files. */
function checkNoNesting(files: VolumeFile[], volume: string, index: number): void {
  const paths = new Set(files.map((f) => f.path));
  for (const f of files) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const dir = parts.slice(0, i).join('/');
      if (paths.has(dir)) throw new ManifestError(`spec.volumes[${index}]`, `Invalid value: "${f.path}": volume "${volume}" has a file "${dir}" and a file below it`);
    }
  }
}

// ---- layout (kubelet's AtomicWriter) ------------------------------------------------------

export type LayoutStep =
  | { op: 'dir'; path: string; mode: number }
  | { op: 'file'; path: string; mode: number; data: Buffer }
  | { op: 'symlink'; path: string; target: string }
  /** rename(from, to): how `..data` is put in place atomically. */
  | { op: 'rename'; from: string; to: string };

export const DATA_DIR_LINK = '..data';

/** `..2026_12_02_09_30_00.123456789`: Go's time format 2006_01_02_15_04_05 (UTC), then MkdirTemp's random digits. */
export function timestampedDirName(now: Date, random: number): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `..${now.getUTCFullYear()}_${p(now.getUTCMonth() + 1)}_${p(now.getUTCDate())}_${p(now.getUTCHours())}_${p(now.getUTCMinutes())}_${p(now.getUTCSeconds())}.${random >>> 0}`;
}

/** The steps that write `files` into an empty volume directory (paths relative to it), in order. */
export function atomicLayout(files: VolumeFile[], tsDir: string): LayoutStep[] {
  const steps: LayoutStep[] = [{ op: 'dir', path: tsDir, mode: 0o755 }];
  const dirs = new Set<string>();
  const sorted = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const f of sorted) {
    const parts = f.path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const d = parts.slice(0, i).join('/');
      if (!dirs.has(d)) {
        dirs.add(d);
        steps.push({ op: 'dir', path: `${tsDir}/${d}`, mode: 0o755 });
      }
    }
    steps.push({ op: 'file', path: `${tsDir}/${f.path}`, mode: f.mode, data: f.data });
  }
  steps.push({ op: 'symlink', path: `${DATA_DIR_LINK}_tmp`, target: tsDir });
  steps.push({ op: 'rename', from: `${DATA_DIR_LINK}_tmp`, to: DATA_DIR_LINK });
  const tops = [...new Set(sorted.map((f) => f.path.split('/')[0]!))];
  for (const top of tops) steps.push({ op: 'symlink', path: top, target: `${DATA_DIR_LINK}/${top}` });
  return steps;
}

/** The contents of every configMap/secret/downwardAPI/projected volume of the pod: what `vnode run` checks before it creates anything. */
export function podVolumeContents(pod: VolumePod & { volumes: PodVolume[] }, nowSec: number): VolumeContent[] {
  const out: VolumeContent[] = [];
  pod.volumes.forEach((v, i) => {
    const c = volumeContent(pod, v, i, nowSec);
    if (c) out.push(c);
  });
  return out;
}
