import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePodManifest } from '../../../src/cli/manifest.js';
import { containerConfig, podSandboxConfig, qosClass, runtimeHandler, type TranslateOptions } from '../../../src/cli/translate.js';

const UID = 'u-1';
const opts: TranslateOptions = { podDir: '/var/lib/kubelet/pods/u-1', logRoot: '/var/log/pods', cgroupParent: '/vnode', memoryCapacity: 8 * 2 ** 30 };

const FULL = `apiVersion: v1
kind: Pod
metadata: {name: web, namespace: team-a, labels: {app: web}, annotations: {a: b}}
spec:
  hostPID: true
  securityContext: {runAsUser: 1000, runAsGroup: 2000, supplementalGroups: [3], seccompProfile: {type: RuntimeDefault}}
  volumes:
  - {name: data, hostPath: {path: /srv/data}}
  - {name: scratch, emptyDir: {}}
  containers:
  - name: main
    image: busybox
    command: [sh, -c]
    args: ['echo hi']
    workingDir: /w
    env: [{name: A, value: "1"}]
    tty: true
    ports: [{containerPort: 80}]
    securityContext: {privileged: true, runAsUser: 0, capabilities: {add: [NET_ADMIN], drop: [MKNOD]}, readOnlyRootFilesystem: true}
    resources: {limits: {cpu: 1500m, memory: 256Mi}, requests: {cpu: 500m, memory: 128Mi}}
    volumeMounts:
    - {name: data, mountPath: /data, readOnly: true}
    - {name: scratch, mountPath: /s, subPath: sub}
`;

describe('podSandboxConfig', () => {
  it('is what kubelet sends', () => {
    const pod = parsePodManifest(FULL, UID);
    assert.deepEqual(podSandboxConfig(pod, opts), {
      metadata: { name: 'web', uid: UID, namespace: 'team-a', attempt: 0 },
      hostname: 'web',
      log_directory: '/var/log/pods/team-a_web_u-1',
      dns_config: { servers: [], searches: [], options: [] },
      port_mappings: [{ protocol: 'TCP', container_port: 80, host_port: 0, host_ip: '' }],
      labels: { app: 'web', 'io.kubernetes.pod.name': 'web', 'io.kubernetes.pod.namespace': 'team-a', 'io.kubernetes.pod.uid': UID },
      annotations: {
        a: 'b',
        'kubernetes.io/config.source': 'file',
        'vnode.io/run.pod-dir': '/var/lib/kubelet/pods/u-1',
        'vnode.io/run.cgroup-parent': '/vnode',
        'vnode.io/run.termination-grace-period': '30',
      },
      linux: {
        cgroup_parent: '/vnode/podu-1',
        sysctls: {},
        security_context: {
          namespace_options: { network: 0, pid: 2, ipc: 0 },
          privileged: true,
          run_as_user: { value: 1000 },
          run_as_group: { value: 2000 },
          supplemental_groups: [3],
          seccomp: { profile_type: 'RuntimeDefault' },
        },
      },
    });
  });

  it('hostNetwork: empty hostname, NODE network; shareProcessNamespace: POD pid', () => {
    const pod = parsePodManifest('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n  shareProcessNamespace: true\n  containers: [{name: c, image: i}]\n', UID);
    const cfg = podSandboxConfig(pod, opts);
    assert.equal(cfg.hostname, '');
    assert.deepEqual(cfg.linux!.security_context!.namespace_options, { network: 2, pid: 0, ipc: 0 });
    assert.equal(cfg.linux!.security_context!.privileged, false);
    assert.deepEqual(cfg.linux!.security_context!.seccomp, { profile_type: 'Unconfined' });
  });
});

describe('containerConfig', () => {
  it('translates command, env, mounts, resources and security context', () => {
    const pod = parsePodManifest(FULL, UID);
    const c = containerConfig(pod, pod.containers[0]!, opts);
    assert.deepEqual(c.metadata, { name: 'main', attempt: 0 });
    assert.deepEqual(c.image, { image: 'busybox', user_specified_image: 'busybox' });
    assert.deepEqual(c.command, ['sh', '-c']);
    assert.deepEqual(c.args, ['echo hi']);
    assert.equal(c.working_dir, '/w');
    assert.deepEqual(c.envs, [{ key: 'A', value: '1' }]);
    assert.equal(c.log_path, 'main/0.log');
    assert.equal(c.tty, true);
    assert.deepEqual(c.mounts, [
      { container_path: '/data', host_path: '/srv/data', readonly: true, propagation: 'PROPAGATION_PRIVATE' },
      { container_path: '/s', host_path: '/var/lib/kubelet/pods/u-1/volumes/kubernetes.io~empty-dir/scratch/sub', readonly: false, propagation: 'PROPAGATION_PRIVATE' },
    ]);
    // Burstable: 1000 - 1000 * 128Mi / 8Gi = 985
    assert.deepEqual(c.linux!.resources, { cpu_shares: 512, oom_score_adj: 985, cpu_period: 100000, cpu_quota: 150000, memory_limit_in_bytes: 268435456 });
    assert.deepEqual(c.linux!.security_context, {
      namespace_options: { network: 0, pid: 2, ipc: 0 },
      privileged: true,
      run_as_user: { value: 0 },
      run_as_group: { value: 2000 },
      supplemental_groups: [3],
      capabilities: { add_capabilities: ['NET_ADMIN'], drop_capabilities: ['MKNOD'] },
      readonly_rootfs: true,
      no_new_privs: false,
      seccomp: { profile_type: 'RuntimeDefault' },
    });
    assert.equal(c.labels!['io.kubernetes.container.name'], 'main');
  });

  it('QoS classes give kubelet\'s shares and oom_score_adj', () => {
    const mk = (res: string) => parsePodManifest(`apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: i${res}}]\n`, UID);
    const best = mk('');
    assert.equal(qosClass(best), 'BestEffort');
    assert.deepEqual(containerConfig(best, best.containers[0]!, opts).linux!.resources, { cpu_shares: 2, oom_score_adj: 1000 });
    const guaranteed = mk(', resources: {limits: {cpu: "2", memory: 1Gi}}');
    assert.equal(qosClass(guaranteed), 'Guaranteed');
    assert.deepEqual(containerConfig(guaranteed, guaranteed.containers[0]!, opts).linux!.resources,
      { cpu_shares: 2048, oom_score_adj: -997, cpu_period: 100000, cpu_quota: 200000, memory_limit_in_bytes: 2 ** 30 });
    const tiny = mk(', resources: {limits: {cpu: 1m}}');
    assert.equal(qosClass(tiny), 'Burstable');
    assert.equal(containerConfig(tiny, tiny.containers[0]!, opts).linux!.resources!.cpu_quota, 1000);
  });

  it('runtime handler: --handler, else runtimeClassName, else vnode', () => {
    const pod = parsePodManifest('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  runtimeClassName: gvisor\n  containers: [{name: c, image: i}]\n', UID);
    assert.equal(runtimeHandler(pod), 'gvisor');
    assert.equal(runtimeHandler(pod, 'runc'), 'runc');
    assert.equal(runtimeHandler({ ...pod, runtimeClassName: undefined } as never), 'vnode');
  });
});
