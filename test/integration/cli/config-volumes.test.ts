// `vnode run` of a multi-document YAML (ConfigMap, Secret, Pod) against a private
// containerd: the pod reads its configMap, its 0400 secret as root, a projected token and
// env from both, and checks kubelet's ..data layout from the inside; afterwards nothing
// of the pod is left on the host (no tmpfs mount, no pod dir). As root; skips otherwise.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { availableContainerdVersions, startContainerd, type ContainerdInstance } from '../../support/containerd.js';
import { describeResult, manifest, podDirExists, podDirOf, removeManifests, vnode } from './helpers.js';

const isRoot = process.getuid?.() === 0;
const version = (process.env.VNODE_TEST_CONTAINERD_VERSIONS?.split(',')[0] ?? (availableContainerdVersions().includes('2') ? '2' : '1.7')) as '2' | '1.7';

const mountsUnder = (dir: string) => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.split(' ')[4]?.startsWith(dir));

describe(`vnode run with ConfigMaps and Secrets on a private containerd ${version}`, { skip: isRoot ? false : 'needs root (real containerd)' }, () => {
  let ctd: ContainerdInstance;
  let image: string;

  before(async () => {
    ctd = await startContainerd({ version });
    image = ctd.images.busybox;
  });
  after(async () => {
    await ctd?.stop();
    removeManifests();
  });

  it('configMap on disk, secret 0400 on tmpfs read by root, projected token, env; ..data layout; nothing left after', async () => {
    const m = manifest((uid) => `apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data:
  greeting: hello-cm
binaryData:
  blob: AAEC
---
apiVersion: v1
kind: Secret
metadata: {name: db}
data:
  password: czNjcjN0
stringData:
  user: admin
---
apiVersion: v1
kind: Pod
metadata: {name: cfg, namespace: cli-cfg, uid: ${uid}, labels: {app: cfg}}
spec:
  restartPolicy: Never
  volumes:
  - {name: config, configMap: {name: app-config}}
  - {name: creds, secret: {secretName: db, defaultMode: 0400}}
  - name: sa
    projected:
      sources:
      - serviceAccountToken: {path: token}
      - downwardAPI: {items: [{path: podname, fieldRef: {fieldPath: metadata.name}}]}
  containers:
  - name: main
    image: ${image}
    env:
    - name: PW
      valueFrom: {secretKeyRef: {name: db, key: password}}
    envFrom:
    - configMapRef: {name: app-config}
      prefix: CFG_
    volumeMounts:
    - {name: config, mountPath: /etc/app}
    - {name: creds, mountPath: /etc/db}
    - {name: sa, mountPath: /var/run/secrets/kubernetes.io/serviceaccount}
    command:
    - sh
    - -c
    - |
      fs() { awk -v m="$1" '$5 == m { for (i = 7; $i != "-"; i++); print $(i+1) }' /proc/self/mountinfo; }
      echo "uid=$(id -u)"
      echo "greeting=$(cat /etc/app/greeting)"
      echo "password=$(cat /etc/db/password)"
      echo "user=$(cat /etc/db/user)"
      echo "pwstat=$(stat -L -c '%a %u:%g' /etc/db/password)"
      echo "data=$(readlink /etc/db/..data)"
      echo "link=$(readlink /etc/db/password)"
      echo "tsdir=$(stat -c '%a' /etc/db/$(readlink /etc/db/..data))"
      echo "entries=$(ls -A /etc/db | tr '\\n' ' ')"
      echo "fs-db=$(fs /etc/db) fs-app=$(fs /etc/app) fs-sa=$(fs /var/run/secrets/kubernetes.io/serviceaccount)"
      echo "podname=$(cat /var/run/secrets/kubernetes.io/serviceaccount/podname)"
      echo "token-parts=$(awk -F. '{print NF}' /var/run/secrets/kubernetes.io/serviceaccount/token)"
      echo "env PW=$PW CFG_greeting=$CFG_greeting"
      if echo x > /etc/db/new 2>/dev/null; then echo writable; else echo read-only; fi
`);
    const r = await vnode(['run', '--containerd', ctd.address, m.path]);
    assert.equal(r.code, 0, describeResult(r));
    const out = Object.fromEntries(r.stdout.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    assert.equal(out['uid'], '0', describeResult(r));
    assert.equal(out['greeting'], 'hello-cm');
    assert.equal(out['password'], 's3cr3t', 'root in the pod reads the 0400 root-owned secret file');
    assert.equal(out['user'], 'admin', 'stringData');
    assert.equal(out['pwstat'], '400 0:0', 'mode 0400, owned by root (host root, ID-mapped to the vNode\'s)');
    assert.match(out['data']!, /^\.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+$/, 'the ..data symlink points at the timestamped directory');
    assert.equal(out['link'], '..data/password');
    assert.equal(out['tsdir'], '755');
    assert.equal(out['entries']!.trim().split(' ').filter((e) => !e.startsWith('..2')).sort().join(' '), '..data password user');
    assert.match(r.stdout, /^fs-db=tmpfs fs-app=(?!tmpfs)\S+ fs-sa=tmpfs$/m, 'secret and projected on tmpfs, configMap on disk');
    assert.equal(out['podname'], 'cfg');
    assert.equal(out['token-parts'], '3', 'a JWT: header.payload.signature');
    assert.match(r.stdout, /^env PW=s3cr3t CFG_greeting=hello-cm$/m);
    assert.match(r.stdout, /^read-only$/m, 'API-object volumes are mounted read-only');
    assert.equal(podDirExists(m.uid), false, 'the pod directory was removed');
    assert.deepEqual(mountsUnder(podDirOf(m.uid)), [], 'no tmpfs left mounted');
    assert.equal((await ctd.cri.listPodSandbox()).length, 0);
  });

  it('a missing Secret is refused before anything is created (exit 2), naming the volume and the Secret', async () => {
    const m = manifest((uid) => `apiVersion: v1
kind: Pod
metadata: {name: nosecret, uid: ${uid}}
spec:
  volumes: [{name: creds, secret: {secretName: db}}]
  containers: [{name: main, image: ${image}, volumeMounts: [{name: creds, mountPath: /etc/db}]}]
`);
    const r = await vnode(['run', '--containerd', ctd.address, m.path]);
    assert.equal(r.code, 2, describeResult(r));
    assert.match(r.stderr, /spec\.volumes\[0\]\.secret\.secretName: MountVolume\.SetUp failed for volume "creds" : secret "db" not found/);
    assert.equal(podDirExists(m.uid), false);
    assert.equal((await ctd.cri.listPodSandbox()).length, 0);
  });
});
