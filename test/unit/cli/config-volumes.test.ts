// ConfigMap/Secret documents beside the Pod, the volumes and env that use them, and
// kubelet's AtomicWriter layout (pure: parsing and planning only).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManifestError, parsePodManifest } from '../../../src/cli/manifest.js';
import { formatMap } from '../../../src/cli/downward.js';
import { containerMounts } from '../../../src/cli/translate.js';
import { atomicLayout, fakeServiceAccountToken, podVolumeContents, timestampedDirName, type VolumeContent } from '../../../src/cli/volume-files.js';

const UID = '11111111-2222-3333-4444-555555555555';
const NOW = 1_800_000_000;

const CM = `apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data:
  greeting: hello
  app.conf: "a=1\\n"
binaryData:
  blob: AAEC
`;
const SECRET = `apiVersion: v1
kind: Secret
metadata: {name: db}
type: Opaque
data:
  password: czNjcjN0
  user: YWRtaW4=
stringData:
  user: root
`;

function pod(spec: string, meta = 'name: p\n  namespace: default\n  labels: {app: web, tier: "1"}\n  annotations: {note: "say \\"hi\\""}'): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  ${meta}\nspec:\n${spec}`;
}

const CONTAINER = '  containers:\n  - name: main\n    image: busybox\n';

function contents(text: string): VolumeContent[] {
  return podVolumeContents(parsePodManifest(text, UID), NOW);
}

function rejects(text: string, message: string) {
  assert.throws(() => contents(text), (err: unknown) => {
    assert.ok(err instanceof ManifestError, `expected ManifestError, got ${String(err)}`);
    assert.equal(err.message, message);
    return true;
  });
}

const files = (c: VolumeContent) => c.files.map((f) => [f.path, f.mode.toString(8), f.data.toString('utf8')]);

describe('ConfigMap and Secret documents', () => {
  it('reads data, binaryData (base64), Secret data (base64) with stringData over it', () => {
    const p = parsePodManifest(`${CM}---\n${SECRET}---\n${pod(CONTAINER)}`, UID);
    const cm = p.objects.get('ConfigMap', 'default', 'app-config')!;
    assert.deepEqual([...cm.data.keys()], ['greeting', 'app.conf', 'blob']);
    assert.equal(cm.data.get('app.conf')!.toString(), 'a=1\n');
    assert.deepEqual([...cm.data.get('blob')!], [0, 1, 2]);
    const s = p.objects.get('Secret', 'default', 'db')!;
    assert.equal(s.data.get('password')!.toString(), 's3cr3t');
    assert.equal(s.data.get('user')!.toString(), 'root', 'stringData wins over data');
  });

  it('puts objects without a namespace into the Pod\'s', () => {
    const p = parsePodManifest(`${CM}---\n${pod(CONTAINER, 'name: p\n  namespace: demo')}`, UID);
    assert.ok(p.objects.get('ConfigMap', 'demo', 'app-config'));
  });

  it('refuses bad objects and other kinds, naming the document or object and the field', () => {
    const P = pod(CONTAINER);
    rejects(`${SECRET.replace('czNjcjN0', 'not base64!')}---\n${P}`,
      'Secret "db": data[password]: Invalid value: illegal base64 data (a Secret\'s data and a ConfigMap\'s binaryData are base64; use stringData or data for plain text)');
    rejects(`${CM.replace('greeting:', 'bad/key:')}---\n${P}`,
      'ConfigMap "app-config": data[bad/key]: Invalid value: "bad/key": a valid config key must consist of alphanumeric characters, \'-\', \'_\' or \'.\' (at most 253)');
    rejects(`${CM.replace('blob:', 'greeting:')}---\n${P}`, 'ConfigMap "app-config": binaryData[greeting]: Invalid value: "greeting": duplicate of key present in data');
    rejects(`${CM}---\n${CM}---\n${P}`, 'document 2: metadata.name: Duplicate value: ConfigMap "app-config" in namespace default is in the manifest twice');
    rejects(`${P}---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n`,
      'document 2: kind: Invalid value "Deployment": vnode run takes one Pod and the ConfigMaps and Secrets it uses');
    rejects(`${CM}---\n${SECRET}`, 'the manifest holds 2 documents and no Pod: vnode run takes exactly one Pod (and the ConfigMaps and Secrets it uses)');
  });
});

describe('configMap, secret, downwardAPI and projected volumes', () => {
  it('every key at its own name with defaultMode (YAML octal 0400), or the items chosen with their modes', () => {
    const [cm, sec] = contents(`${CM}---\n${SECRET}---\n${pod(`  volumes:
  - {name: cfg, configMap: {name: app-config}}
  - name: sec
    secret:
      secretName: db
      defaultMode: 0400
      items: [{key: password, path: creds/pw}, {key: user, path: user.txt, mode: 0440}]
${CONTAINER}`)}`);
    assert.equal(cm!.kind, 'configMap');
    assert.equal(cm!.tmpfs, false, 'configMaps live on disk');
    assert.deepEqual(files(cm!), [['app.conf', '644', 'a=1\n'], ['blob', '644', '\u0000\u0001\u0002'], ['greeting', '644', 'hello']]);
    assert.equal(sec!.kind, 'secret');
    assert.equal(sec!.tmpfs, true, 'secrets live on tmpfs');
    assert.deepEqual(files(sec!), [['creds/pw', '400', 's3cr3t'], ['user.txt', '440', 'root']]);
  });

  it('projected: configMap, secret, downwardAPI and a fake but well-formed service-account token', () => {
    const [p] = contents(`${CM}---\n${SECRET}---\n${pod(`  serviceAccountName: builder
  volumes:
  - name: all
    projected:
      defaultMode: 0440
      sources:
      - configMap: {name: app-config, items: [{key: greeting, path: greeting}]}
      - secret: {name: db, items: [{key: password, path: pw, mode: 0400}]}
      - downwardAPI:
          items:
          - {path: name, fieldRef: {fieldPath: metadata.name}}
          - {path: labels, fieldRef: {fieldPath: metadata.labels}}
          - {path: annotations, fieldRef: {fieldPath: metadata.annotations}}
          - {path: app, fieldRef: {fieldPath: "metadata.labels['app']"}}
      - serviceAccountToken: {path: token, expirationSeconds: 7200}
      - configMap: {name: kube-root-ca.crt, optional: true}
${CONTAINER}`)}`);
    assert.equal(p!.tmpfs, true);
    const byPath = new Map(p!.files.map((f) => [f.path, f]));
    assert.deepEqual([...byPath.keys()], ['greeting', 'pw', 'name', 'labels', 'annotations', 'app', 'token']);
    assert.equal(byPath.get('greeting')!.mode, 0o440);
    assert.equal(byPath.get('pw')!.mode, 0o400);
    assert.equal(byPath.get('name')!.data.toString(), 'p');
    assert.equal(byPath.get('labels')!.data.toString(), 'app="web"\ntier="1"');
    assert.equal(byPath.get('annotations')!.data.toString(), 'note="say \\"hi\\""');
    assert.equal(byPath.get('app')!.data.toString(), 'web');
    const [h, c, sig] = byPath.get('token')!.data.toString().split('.');
    assert.equal(sig, '', 'unsigned');
    assert.deepEqual(JSON.parse(Buffer.from(h!, 'base64url').toString()), { alg: 'none', typ: 'JWT', kid: 'vnode-run-unsigned' });
    const claims = JSON.parse(Buffer.from(c!, 'base64url').toString());
    assert.equal(claims.sub, 'system:serviceaccount:default:builder');
    assert.equal(claims.exp - claims.iat, 7200);
    assert.deepEqual(claims['kubernetes.io'].pod, { name: 'p', uid: UID });
  });

  it('a missing object or key is an error naming the volume and the object, as kubelet\'s event; optional ones are skipped', () => {
    const vol = (v: string) => pod(`  volumes:\n  - ${v}\n${CONTAINER}`);
    rejects(vol('{name: cfg, configMap: {name: nope}}'),
      'spec.volumes[0].configMap.name: MountVolume.SetUp failed for volume "cfg" : configmap "nope" not found (no ConfigMap "nope" in namespace default in the manifest; add one as another YAML document (---))');
    rejects(`${SECRET}---\n${vol('{name: sec, secret: {secretName: db, items: [{key: token, path: t}]}}')}`,
      'spec.volumes[0].secret.items[0].key: MountVolume.SetUp failed for volume "sec" : secret "db" references non-existent secret key: token');
    rejects(`${SECRET.replace('metadata: {name: db}', 'metadata: {name: db, namespace: other}')}---\n${vol('{name: sec, secret: {secretName: db}}')}`,
      'spec.volumes[0].secret.secretName: MountVolume.SetUp failed for volume "sec" : secret "db" not found (there is a Secret "db" in namespace other, not in the pod\'s namespace default)');
    rejects(`${CM}---\n${vol('{name: p, projected: {sources: [{configMap: {name: app-config}}, {configMap: {name: app-config, items: [{key: blob, path: greeting}]}}]}}')}`,
      'spec.volumes[0].projected.sources[1]: Invalid value: "greeting": conflicting duplicate paths (also written by sources[0])');
    const [opt] = contents(vol('{name: cfg, configMap: {name: nope, optional: true}}'));
    assert.deepEqual(opt!.files, []);
  });

  it('checks paths and modes as the API server does', () => {
    const vol = (v: string) => pod(`  volumes:\n  - ${v}\n${CONTAINER}`);
    rejects(vol('{name: c, configMap: {name: x, items: [{key: k, path: ../up}]}}'), 'spec.volumes[0].configMap.items[0].path: Invalid value: "../up": must not contain \'..\'');
    rejects(vol('{name: c, configMap: {name: x, items: [{key: k, path: /abs}]}}'), 'spec.volumes[0].configMap.items[0].path: Invalid value: "/abs": must be a relative path');
    rejects(vol('{name: c, secret: {secretName: x, defaultMode: 01000}}'), 'spec.volumes[0].secret.defaultMode: Invalid value: 512: must be a number between 0 and 0777 (octal), both inclusive');
    rejects(vol('{name: c, downwardAPI: {items: [{path: n, fieldRef: {fieldPath: spec.nodeName}}]}}'),
      'spec.volumes[0].downwardAPI.items[0].fieldRef.fieldPath: Unsupported value: "spec.nodeName": supported values: "metadata.name", "metadata.namespace", "metadata.uid", "metadata.labels", "metadata.annotations", "metadata.labels[\'<KEY>\']", "metadata.annotations[\'<KEY>\']"');
    rejects(vol('{name: c, projected: {sources: [{serviceAccountToken: {path: t, expirationSeconds: 60}}]}}'),
      'spec.volumes[0].projected.sources[0].serviceAccountToken.expirationSeconds: must be an integer between 600 and 4294967295 (got 60)');
  });

  it('mounts them read-only from kubelet\'s plugin directories', () => {
    const p = parsePodManifest(`${CM}---\n${SECRET}---\n${pod(`  volumes:
  - {name: cfg, configMap: {name: app-config}}
  - {name: sec, secret: {secretName: db}}
  - {name: tok, projected: {sources: [{serviceAccountToken: {path: token}}]}}
  containers:
  - name: main
    image: busybox
    volumeMounts:
    - {name: cfg, mountPath: /etc/app}
    - {name: sec, mountPath: /etc/db, readOnly: false}
    - {name: tok, mountPath: /var/run/secrets/kubernetes.io/serviceaccount}
    - {name: cfg, mountPath: /etc/greeting, subPath: greeting}
`)}`, UID);
    const m = containerMounts(p, p.containers[0]!, '/var/lib/kubelet/pods/u');
    assert.deepEqual(m.map((x) => [x.host_path, x.readonly]), [
      ['/var/lib/kubelet/pods/u/volumes/kubernetes.io~configmap/cfg', true],
      ['/var/lib/kubelet/pods/u/volumes/kubernetes.io~secret/sec', true],
      ['/var/lib/kubelet/pods/u/volumes/kubernetes.io~projected/tok', true],
      ['/var/lib/kubelet/pods/u/volumes/kubernetes.io~configmap/cfg/greeting', true],
    ]);
  });
});

describe('env from ConfigMaps and Secrets', () => {
  it('envFrom first (with prefix; a ConfigMap\'s data, not its binaryData), then env; later names win; optional missing ones are skipped', () => {
    const p = parsePodManifest(`${CM}---\n${SECRET}---\n${pod(`  containers:
  - name: main
    image: busybox
    envFrom:
    - configMapRef: {name: app-config}
      prefix: CFG_
    - secretRef: {name: missing, optional: true}
    env:
    - {name: CFG_greeting, value: overridden}
    - name: PW
      valueFrom: {secretKeyRef: {name: db, key: password}}
    - name: GREETING
      valueFrom: {configMapKeyRef: {name: app-config, key: greeting}}
    - name: NONE
      valueFrom: {configMapKeyRef: {name: app-config, key: nope, optional: true}}
    - name: POD
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
`)}`, UID);
    assert.deepEqual(p.containers[0]!.env, [
      { name: 'CFG_greeting', value: 'overridden' },
      { name: 'CFG_app.conf', value: 'a=1\n' },
      { name: 'PW', value: 's3cr3t' },
      { name: 'GREETING', value: 'hello' },
      { name: 'POD', value: 'p' },
    ]);
  });

  it('a missing key (binaryData keys are not env) is kubelet\'s CreateContainerConfigError text', () => {
    assert.throws(() => parsePodManifest(`${CM}---\n${pod(`  containers:
  - name: main
    image: busybox
    env: [{name: X, valueFrom: {configMapKeyRef: {name: app-config, key: nope}}}]
`)}`, UID), { message: 'spec.containers[0].env[0].valueFrom.configMapKeyRef.key: couldn\'t find key nope in ConfigMap default/app-config' });
    assert.throws(() => parsePodManifest(`${CM}---\n${pod(`  containers:
  - name: main
    image: busybox
    env: [{name: X, valueFrom: {configMapKeyRef: {name: app-config, key: blob}}}]
`)}`, UID), { message: 'spec.containers[0].env[0].valueFrom.configMapKeyRef.key: couldn\'t find key blob in ConfigMap default/app-config' });
  });
});

describe('kubelet\'s AtomicWriter layout', () => {
  it('names the timestamped directory as kubelet (Go layout 2006_01_02_15_04_05, UTC)', () => {
    assert.equal(timestampedDirName(new Date(Date.UTC(2026, 0, 2, 3, 4, 5)), 12345), '..2026_01_02_03_04_05.12345');
  });

  it('files in the timestamped dir, ..data put in place by rename, one symlink per top-level name', () => {
    const steps = atomicLayout([
      { path: 'b', mode: 0o400, data: Buffer.from('B') },
      { path: 'dir/x', mode: 0o644, data: Buffer.from('X') },
      { path: 'a', mode: 0o644, data: Buffer.from('A') },
    ], '..TS');
    assert.deepEqual(steps.map((s) => (s.op === 'file' ? `file ${s.path} ${s.mode.toString(8)}` : s.op === 'dir' ? `dir ${s.path}` : s.op === 'symlink' ? `link ${s.path} -> ${s.target}` : `rename ${s.from} ${s.to}`)), [
      'dir ..TS',
      'file ..TS/a 644',
      'file ..TS/b 400',
      'dir ..TS/dir',
      'file ..TS/dir/x 644',
      'link ..data_tmp -> ..TS',
      'rename ..data_tmp ..data',
      'link a -> ..data/a',
      'link b -> ..data/b',
      'link dir -> ..data/dir',
    ]);
  });

  it('formats maps as the downward API does', () => {
    assert.equal(formatMap({ b: 'x\ny', a: '1' }), 'a="1"\nb="x\\ny"');
    assert.equal(formatMap({}), '');
  });

  it('the token expires expirationSeconds after it was made', () => {
    const t = fakeServiceAccountToken({ name: 'p', namespace: 'n', uid: 'u', labels: {}, annotations: {}, serviceAccountName: 'default', objects: undefined as never }, { path: 't', audience: 'api', expirationSeconds: 600 }, 100);
    const claims = JSON.parse(Buffer.from(t.split('.')[1]!, 'base64url').toString());
    assert.deepEqual([claims.aud, claims.iat, claims.exp], [['api'], 100, 700]);
  });
});
