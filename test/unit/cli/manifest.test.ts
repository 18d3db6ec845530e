import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkNoHostPorts, ManifestError, parsePodManifest, parseQuantity } from '../../../src/cli/manifest.js';

const UID = '11111111-2222-3333-4444-555555555555';

function pod(spec: string, meta = 'name: p'): string {
  return `apiVersion: v1\nkind: Pod\nmetadata:\n  ${meta}\nspec:\n${spec}`;
}

const MIN = pod('  containers:\n  - name: main\n    image: busybox\n');

/** Asserts that parsing fails with exactly this message. */
function rejects(text: string, message: string) {
  assert.throws(() => parsePodManifest(text, UID), (err: unknown) => {
    assert.ok(err instanceof ManifestError, `expected ManifestError, got ${String(err)}`);
    assert.equal(err.message, message);
    assert.equal(err.exitCode, 2);
    return true;
  });
}

describe('parsePodManifest', () => {
  it('fills defaults for a minimal pod', () => {
    const p = parsePodManifest(MIN, UID);
    assert.equal(p.name, 'p');
    assert.equal(p.namespace, 'default');
    assert.equal(p.uid, UID);
    assert.equal(p.restartPolicy, 'Always');
    assert.equal(p.terminationGracePeriodSeconds, 30);
    assert.equal(p.containers.length, 1);
    assert.deepEqual(p.containers[0]!.command, []);
    assert.deepEqual(p.containers[0]!.securityContext.capabilities, { add: [], drop: [] });
  });

  it('reads every supported field', () => {
    const p = parsePodManifest(`apiVersion: v1
kind: Pod
metadata:
  name: full
  namespace: team-a
  uid: abc
  labels: {app: x}
  annotations: {note: "1"}
spec:
  runtimeClassName: vnode
  restartPolicy: Never
  hostNetwork: true
  hostPID: true
  hostIPC: true
  terminationGracePeriodSeconds: 2
  securityContext:
    runAsUser: 1000
    supplementalGroups: [5]
    sysctls: [{name: net.ipv4.ip_unprivileged_port_start, value: "0"}]
  volumes:
  - {name: data, hostPath: {path: /srv/data, type: DirectoryOrCreate}}
  - {name: tmp, emptyDir: {medium: Memory}}
  initContainers:
  - {name: init, image: busybox, command: ['true']}
  containers:
  - name: main
    image: localhost/x:1
    command: [sh, -c]
    args: [echo hi]
    workingDir: /tmp
    env: [{name: A, value: b}, {name: EMPTY}]
    tty: true
    stdin: true
    ports: [{containerPort: 80}]
    securityContext:
      privileged: true
      runAsUser: 0
      capabilities: {add: [NET_ADMIN], drop: [ALL]}
      allowPrivilegeEscalation: false
    resources:
      limits: {cpu: 500m, memory: 128Mi}
      requests: {cpu: "0.25", memory: 64Mi}
    volumeMounts:
    - {name: data, mountPath: /data, readOnly: true}
    - {name: tmp, mountPath: /scratch, subPath: a/b}
`, UID);
    assert.equal(p.namespace, 'team-a');
    assert.equal(p.uid, 'abc');
    assert.deepEqual(p.labels, { app: 'x' });
    assert.equal(p.runtimeClassName, 'vnode');
    assert.equal(p.restartPolicy, 'Never');
    assert.ok(p.hostNetwork && p.hostPID && p.hostIPC);
    assert.equal(p.terminationGracePeriodSeconds, 2);
    assert.deepEqual(p.securityContext.sysctls, { 'net.ipv4.ip_unprivileged_port_start': '0' });
    assert.deepEqual(p.volumes, [{ name: 'data', hostPath: { path: '/srv/data', type: 'DirectoryOrCreate' } }, { name: 'tmp', emptyDir: { medium: 'Memory' } }]);
    assert.equal(p.initContainers[0]!.name, 'init');
    const c = p.containers[0]!;
    assert.deepEqual(c.env, [{ name: 'A', value: 'b' }, { name: 'EMPTY', value: '' }]);
    assert.deepEqual(c.resources, { cpuLimit: 500, memoryLimit: 128 * 2 ** 20, cpuRequest: 250, memoryRequest: 64 * 2 ** 20 });
    assert.deepEqual(c.securityContext, { privileged: true, runAsUser: 0, allowPrivilegeEscalation: false, capabilities: { add: ['NET_ADMIN'], drop: ['ALL'] } });
    assert.deepEqual(c.volumeMounts[1], { name: 'tmp', mountPath: '/scratch', readOnly: false, subPath: 'a/b' });
    assert.ok(c.tty && c.stdin);
  });

  it('collects fields it ignores', () => {
    const p = parsePodManifest(pod('  nodeSelector: {a: b}\n  containers:\n  - name: main\n    image: busybox\n    livenessProbe: {exec: {command: [true]}}\n'), UID);
    assert.deepEqual(p.ignored, ['spec.nodeSelector', 'spec.containers[0].livenessProbe']);
  });

  it('rejects bad manifests naming the field', () => {
    rejects('', 'the manifest is empty: expected one Pod');
    rejects('a: [', rejectsYamlMessage());
    rejects(`${MIN}---\n${MIN}`, 'the manifest holds 2 Pods (document 1, document 2): vnode run takes exactly one Pod');
    rejects(MIN.replace('kind: Pod', 'kind: Deployment'), 'kind: Invalid value "Deployment": vnode run takes a Pod (a Deployment needs a cluster\'s controllers)');
    rejects(MIN.replace('apiVersion: v1', 'apiVersion: apps/v1'), 'apiVersion: Invalid value "apps/v1": a Pod is apiVersion v1');
    rejects(pod('  containers:\n  - name: main\n    image: busybox\n', 'labels: {}'), 'metadata.name: Required value');
    rejects(pod('  containers:\n  - name: main\n    image: busybox\n', 'name: Bad_Name'), 'metadata.name: Invalid value "Bad_Name": must be a lowercase RFC 1123 subdomain (a-z, 0-9, \'-\', \'.\')');
    rejects(pod('  containers: []\n'), 'spec.containers: Required value: a Pod needs at least one container');
    rejects(pod('  containers:\n  - name: main\n'), 'spec.containers[0].image: Required value');
    rejects(pod('  containers:\n  - name: main\n    image: busybox\n    command: sh\n'), 'spec.containers[0].command: must be a list (got string "sh")');
    rejects(pod('  containers:\n  - name: a\n    image: busybox\n  - name: a\n    image: busybox\n'), 'spec.containers[1].name: Duplicate value: "a"');
    rejects(pod('  containers:\n  - name: a\n    image: busybox\n    env: [{name: N, value: 3}]\n'), 'spec.containers[0].env[0].value: must be a string (got number 3; quote it in YAML)');
    rejects(pod('  containers:\n  - name: a\n    image: busybox\n    env: [{name: N, valueFrom: {secretKeyRef: {name: s, key: k}}}]\n'),
      'spec.containers[0].env[0].valueFrom.secretKeyRef.name: secret "s" not found (no Secret "s" in namespace default in the manifest; add one as another YAML document (---))');
    rejects(pod('  containers:\n  - name: a\n    image: busybox\n    resources: {limits: {memory: lots}}\n'),
      'spec.containers[0].resources.limits.memory: Invalid value "lots": must be a quantity such as 500m, 0.5, 128Mi or 1G');
    rejects(pod('  containers:\n  - name: a\n    image: busybox\n    resources: {limits: {cpu: 1}, requests: {cpu: 2}}\n'),
      'spec.containers[0].resources.requests.cpu: must be less than or equal to the cpu limit');
    rejects(pod('  containers:\n  - name: a\n    image: busybox\n    volumeMounts: [{name: nope, mountPath: /x}]\n'),
      'spec.containers[0].volumeMounts[0].name: Not found: "nope" (no volume of that name in spec.volumes)');
    rejects(pod('  volumes: [{name: c, persistentVolumeClaim: {claimName: x}}]\n  containers:\n  - name: a\n    image: busybox\n'),
      'spec.volumes[0].persistentVolumeClaim: volume type persistentVolumeClaim is not supported by vnode run: vnode run supports hostPath, emptyDir, configMap, secret, downwardAPI and projected (there is no cluster to provide it)');
    rejects(pod('  volumes: [{name: h, hostPath: {path: rel}}]\n  containers:\n  - name: a\n    image: busybox\n'),
      'spec.volumes[0].hostPath.path: Invalid value "rel": must be an absolute path');
    rejects(pod('  restartPolicy: Sometimes\n  containers:\n  - name: a\n    image: busybox\n'),
      'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"');
    rejects(pod('  hostNetwork: "yes"\n  containers:\n  - name: a\n    image: busybox\n'), 'spec.hostNetwork: must be true or false (got "yes")');
    rejects(pod('  containers:\n  - name: a\n    image: busybox\n    ports: [{containerPort: 70000}]\n'),
      'spec.containers[0].ports[0].containerPort: must be an integer between 1 and 65535 (got 70000)');
  });

  it('refuses hostPort and hostIP naming pod, container and port', () => {
    const p = parsePodManifest(pod('  containers:\n  - name: a\n    image: busybox\n  - name: web\n    image: busybox\n    ports:\n    - containerPort: 8080\n    - containerPort: 80\n      hostPort: 8081\n', 'name: p\n  namespace: ns1'), UID);
    assert.throws(() => checkNoHostPorts(p), {
      message: 'spec.containers[1].ports[1]: pod ns1/p, container web, port 80/TCP: hostPort 8081 is not supported in a vNode (a pod cannot take a port of the host); remove hostPort/hostIP and reach the pod at its own IP',
    });
    const q = parsePodManifest(pod('  containers:\n  - name: a\n    image: busybox\n    ports: [{containerPort: 53, protocol: UDP, hostIP: 127.0.0.1}]\n'), UID);
    assert.throws(() => checkNoHostPorts(q), /pod default\/p, container a, port 53\/UDP: hostIP 127.0.0.1 is not supported in a vNode/);
    checkNoHostPorts(parsePodManifest(pod('  containers:\n  - name: a\n    image: busybox\n    ports: [{containerPort: 80}]\n'), UID));
  });
});

function rejectsYamlMessage(): string {
  try {
    parsePodManifest('a: [', UID);
  } catch (err) {
    assert.match((err as Error).message, /^not valid YAML: /);
    return (err as Error).message;
  }
  throw new Error('expected a YAML error');
}

describe('parseQuantity', () => {
  it('reads Kubernetes quantities', () => {
    assert.equal(parseQuantity('500m', 'f'), 0.5);
    assert.equal(parseQuantity('2', 'f'), 2);
    assert.equal(parseQuantity(1.5, 'f'), 1.5);
    assert.equal(parseQuantity('128Mi', 'f'), 134217728);
    assert.equal(parseQuantity('1G', 'f'), 1e9);
    assert.equal(parseQuantity('1e3', 'f'), 1000);
    assert.equal(parseQuantity('64Ki', 'f'), 65536);
    assert.throws(() => parseQuantity('12 MB', 'x.y'), { message: 'x.y: Invalid value "12 MB": must be a quantity such as 500m, 0.5, 128Mi or 1G' });
  });
});
