// deploy/kubernetes: `kubectl kustomize` (Debian's kubectl 1.36, .cache/kubectl from
// scripts/setup-host.sh) renders it; every rendered object validates against the
// Kubernetes 1.36 OpenAPI schemas (kubernetes-models 5.1: its validators are generated
// from v1.36.0's spec); the admission policies' CEL expressions, evaluated with
// @bufbuild/cel (+ its strings extension: join, lowerAscii), refuse a vnode pod with
// hostPort/hostIP with the very message the runtime's vnode-cni gives.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isCelError, run } from '@bufbuild/cel';
import { strings } from '@bufbuild/cel/ext';
import { renderDeploy } from '../../support/deploy.js';
import { repoRoot } from '../../support/paths.js';

const byKind = (objs: Record<string, any>[], kind: string, name?: string) => {
  const o = objs.find((x) => x['kind'] === kind && (name === undefined || x['metadata']?.name === name));
  assert.ok(o, `no ${kind} ${name ?? ''} rendered`);
  return o;
};

/** The kubernetes-models class of an object (kubernetes-models/<group>/<version>/<Kind>, core: v1/<Kind>). */
async function modelOf(apiVersion: string, kind: string): Promise<new (data: unknown) => { validate(): void }> {
  const path = `kubernetes-models/${apiVersion}/${kind}`;
  const m = (await import(path)) as Record<string, new (data: unknown) => { validate(): void }>;
  const cls = m[kind];
  assert.ok(cls, `kubernetes-models has no ${apiVersion} ${kind}`);
  return cls;
}

// ---- CEL, as the API server evaluates a ValidatingAdmissionPolicy ------------------------------

/** JSON → CEL input: objects as maps, integers as int (the API server's types for int32/int64 fields). */
const toCel = (v: unknown): unknown =>
  Array.isArray(v) ? v.map(toCel) : v && typeof v === 'object' ? new Map(Object.entries(v).map(([k, x]) => [k, toCel(x)])) : Number.isInteger(v) ? BigInt(v as number) : v;

function evalCel(expr: string, bindings: Record<string, unknown>): unknown {
  const r = run(expr, bindings as never, { funcs: strings });
  if (isCelError(r)) throw new Error(`CEL error in ${expr}: ${String((r as { message?: string }).message ?? r)}`);
  return r;
}

interface Verdict { matched: boolean; allowed: boolean; message?: string }

/** matchConditions, then variables in order, then each validation (and its messageExpression). */
function admit(policy: Record<string, any>, pod: Record<string, unknown>, namespace: string): Verdict {
  const object = toCel(pod);
  const request = toCel({ namespace, operation: 'CREATE', kind: { group: '', version: 'v1', kind: 'Pod' } });
  const base = { object, request, oldObject: null };
  for (const mc of policy['spec'].matchConditions ?? []) if (evalCel(mc.expression, base) !== true) return { matched: false, allowed: true };
  const variables = new Map<string, unknown>();
  for (const v of policy['spec'].variables ?? []) variables.set(v.name, evalCel(v.expression, { ...base, variables }));
  for (const val of policy['spec'].validations) {
    if (evalCel(val.expression, { ...base, variables }) === true) continue;
    return { matched: true, allowed: false, message: String(evalCel(val.messageExpression, { ...base, variables })) };
  }
  return { matched: true, allowed: true };
}

/** What the runtime's vnode-cni answers for these port mappings (as containerd hands them: lower-case protocol). */
function runtimeMessage(namespace: string, name: string, mappings: { containerPort: number; hostPort: number; protocol: string; hostIP?: string }[]): string {
  const cni = join(repoRoot, 'dist', 'vnode-cni');
  assert.ok(existsSync(cni), 'dist/vnode-cni is missing: npm run build');
  const r = spawnSync(cni, [], {
    input: JSON.stringify({ cniVersion: '1.0.0', name: 'net', type: 'vnode-cni', runtimeConfig: { portMappings: mappings } }),
    env: { CNI_COMMAND: 'ADD', CNI_CONTAINERID: 'c1', CNI_NETNS: '/proc/self/ns/net', CNI_IFNAME: 'eth0', CNI_PATH: '/nonexistent', CNI_ARGS: `K8S_POD_NAMESPACE=${namespace};K8S_POD_NAME=${name}` },
    encoding: 'utf8',
  });
  assert.equal(r.status, 1, r.stdout + r.stderr);
  return (JSON.parse(r.stdout) as { msg: string }).msg;
}

const pod = (spec: Record<string, unknown>, name = 'web-0') => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec });

describe('deploy/kubernetes', () => {
  it('kubectl kustomize renders it, and every object validates against the Kubernetes 1.36 schemas', async () => {
    const objs = renderDeploy();
    assert.deepEqual(objs.map((o) => `${o['kind']}/${o['metadata'].name}`).sort(), [
      'ConfigMap/vnode-config', 'DaemonSet/vnode-node', 'Namespace/vnode-system', 'RuntimeClass/vnode', 'ServiceAccount/vnode-node',
      'ValidatingAdmissionPolicy/vnode-no-host-ports', 'ValidatingAdmissionPolicy/vnode-tenant-runtime-class',
      'ValidatingAdmissionPolicyBinding/vnode-no-host-ports', 'ValidatingAdmissionPolicyBinding/vnode-tenant-runtime-class',
    ]);
    for (const o of objs) {
      const Model = await modelOf(o['apiVersion'], o['kind']);
      assert.doesNotThrow(() => new Model(o).validate(), `${o['kind']}/${o['metadata'].name}`);
      assert.equal(o['metadata'].labels['app.kubernetes.io/part-of'], 'vnode');
    }
  });

  it('the schema check can fail: a wrong type and a bad quantity are refused', async () => {
    const rc = byKind(renderDeploy(), 'RuntimeClass');
    const Model = await modelOf(rc['apiVersion'], rc['kind']);
    assert.throws(() => new Model({ ...rc, overhead: { podFixed: { memory: '4 megabytes' } } }).validate(), /quantity/);
    const ds = byKind(renderDeploy(), 'DaemonSet');
    const DsModel = await modelOf(ds['apiVersion'], ds['kind']);
    assert.throws(() => new DsModel({ ...ds, spec: { ...ds['spec'], updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: [1] } } } }).validate());
  });

  it('RuntimeClass vnode: handler vnode, an overhead, labelled nodes only', () => {
    const rc = byKind(renderDeploy(), 'RuntimeClass', 'vnode');
    assert.equal(rc['handler'], 'vnode');
    assert.equal(rc['overhead'].podFixed.memory, '4Mi');
    assert.deepEqual(rc['scheduling'].nodeSelector, { 'vnode.dev/enabled': 'true' });
  });

  it('DaemonSet: install into the host root, the mounts it needs, probes on /healthz at 127.0.0.1:9465, a rolling update', () => {
    const ds = byKind(renderDeploy(), 'DaemonSet', 'vnode-node');
    const spec = ds['spec'].template.spec;
    const init = spec.initContainers[0];
    assert.deepEqual(init.command, ['/opt/vnode/bin/vnode', 'install', '--host-root', '/host', '--service']);
    const mounts = init.volumeMounts.map((m: { mountPath: string }) => m.mountPath);
    for (const m of ['/host/etc/containerd', '/host/opt/vnode', '/host/run', '/host/etc/cni/net.d', '/host/opt/cni/bin']) assert.ok(mounts.includes(m), m);
    assert.equal(init.env.find((e: { name: string }) => e.name === 'VNODE_PER_POD').valueFrom.configMapKeyRef.name, 'vnode-config');
    assert.equal(spec.hostPID, true);
    const mgr = spec.containers[0];
    for (const probe of [mgr.livenessProbe, mgr.readinessProbe]) assert.ok(probe.exec.command.includes('http://127.0.0.1:9465/healthz'));
    assert.equal(ds['spec'].updateStrategy.rollingUpdate.maxUnavailable, 1);
    assert.deepEqual(spec.tolerations, [{ operator: 'Exists' }]);
  });

  it('admission policy: a vnode pod with hostPort is refused with the runtime\'s own message; without, and other runtimes, pass', () => {
    const policy = byKind(renderDeploy(), 'ValidatingAdmissionPolicy', 'vnode-no-host-ports');
    const plain = admit(policy, pod({ runtimeClassName: 'vnode', containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }] }), 'tenant-a');
    assert.deepEqual(plain, { matched: true, allowed: true });
    assert.deepEqual(admit(policy, pod({ runtimeClassName: 'vnode', containers: [{ name: 'web', image: 'nginx' }] }), 'tenant-a'), { matched: true, allowed: true });
    const runc = admit(policy, pod({ containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80, hostPort: 8080 }] }] }), 'infra');
    assert.deepEqual(runc, { matched: false, allowed: true }, 'pods of other runtime classes are not this policy\'s business');

    const one = admit(policy, pod({ runtimeClassName: 'vnode', containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80, hostPort: 8080, protocol: 'TCP' }] }] }), 'tenant-a');
    assert.equal(one.allowed, false);
    assert.equal(one.message, runtimeMessage('tenant-a', 'web-0', [{ containerPort: 80, hostPort: 8080, protocol: 'tcp' }]));

    const two = admit(policy, pod({
      runtimeClassName: 'vnode',
      initContainers: [{ name: 'init', image: 'busybox', ports: [{ containerPort: 53, hostPort: 53, protocol: 'UDP', hostIP: '10.0.0.5' }] }],
      containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 443 }, { containerPort: 80, hostPort: 80 }] }],
    }), 'tenant-b');
    assert.equal(two.allowed, false);
    assert.equal(two.message, runtimeMessage('tenant-b', 'web-0', [{ containerPort: 80, hostPort: 80, protocol: 'tcp' }, { containerPort: 53, hostPort: 53, protocol: 'udp', hostIP: '10.0.0.5' }]));

    const ipOnly = admit(policy, pod({ runtimeClassName: 'vnode', containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80, hostIP: '0.0.0.0' }] }] }), 'tenant-a');
    assert.equal(ipOnly.allowed, false);
    assert.match(ipOnly.message!, /^pod tenant-a\/web-0 asks for container port 80\/tcp on host port 0 of host IP 0\.0\.0\.0: hostPort\/hostIP is not supported in a vNode/);
  });

  it('tenant policy: in a vnode.dev/tenant namespace only runtimeClassName vnode is let in', () => {
    const objs = renderDeploy();
    const policy = byKind(objs, 'ValidatingAdmissionPolicy', 'vnode-tenant-runtime-class');
    const binding = byKind(objs, 'ValidatingAdmissionPolicyBinding', 'vnode-tenant-runtime-class');
    assert.deepEqual(binding['spec'].matchResources.namespaceSelector.matchLabels, { 'vnode.dev/tenant': 'true' });
    assert.equal(admit(policy, pod({ runtimeClassName: 'vnode', containers: [{ name: 'a', image: 'x', securityContext: { privileged: true } }] }), 't').allowed, true);
    const refused = admit(policy, pod({ containers: [{ name: 'a', image: 'x', securityContext: { privileged: true } }] }), 't');
    assert.equal(refused.allowed, false);
    assert.match(refused.message!, /namespace t is a vnode tenant namespace .*runtimeClassName: vnode/);
  });
});
