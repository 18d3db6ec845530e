// Field numbers of the CRI proto (proto/k8s/cri/v1/api.proto) are wire facts: encode messages with the generated codecs and check
// the bytes against hand-computed protobuf encodings (tag = field << 3 | wire type).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CriProto, encodeCri } from '../../../src/k8s/cri/index.js';

const enc = (type: string, obj: object) => Buffer.from(encodeCri(type, obj)).toString('hex');
const service = (def: object, name: string) => ({
  methods: Object.fromEntries(Object.values(def as Record<string, { path: string }>).filter((d) => d.path.startsWith(`/${name}/`)).map((d) => [d.path.slice(name.length + 2), d])),
});

test('the proto parses and defines both services with the RPCs we use', () => {
  const rt = service(CriProto.RuntimeServiceService, 'runtime.v1.RuntimeService');
  for (const m of ['Version', 'RunPodSandbox', 'StopPodSandbox', 'RemovePodSandbox', 'PodSandboxStatus', 'ListPodSandbox',
    'CreateContainer', 'StartContainer', 'StopContainer', 'RemoveContainer', 'ListContainers', 'ContainerStatus',
    'UpdateContainerResources', 'ExecSync', 'Exec', 'Attach', 'ContainerStats', 'Status']) {
    assert.ok(rt.methods[m], m);
  }
  const img = service(CriProto.ImageServiceService, 'runtime.v1.ImageService');
  for (const m of ['ImageStatus', 'ListImages', 'PullImage']) assert.ok(img.methods[m], m);
});

test('wire encoding matches the CRI field numbers', () => {
  // RunPodSandboxRequest.runtime_handler = 2 (string): 0x12
  assert.equal(enc('RunPodSandboxRequest', { runtime_handler: 'vnode' }), '1205' + Buffer.from('vnode').toString('hex'));
  // NamespaceOption network=1 pid=2 ipc=3 (varints); NODE = 2, CONTAINER = 1
  assert.equal(enc('NamespaceOption', { network: 2, pid: 1, ipc: 2 }), '080210011802');
  // LinuxSandboxSecurityContext.privileged = 6 (bool): 0x30; run_as_user = 3 (message)
  assert.equal(enc('LinuxSandboxSecurityContext', { privileged: true, run_as_user: { value: 0 } }), '1a00' + '3001');
  // LinuxContainerSecurityContext.privileged = 2, run_as_user = 5, seccomp = 15
  assert.equal(enc('LinuxContainerSecurityContext', { privileged: true, seccomp: { profile_type: 1 } }), '1001' + '7a020801');
  // LinuxContainerResources: cpu_period 1, cpu_quota 2, cpu_shares 3, memory_limit_in_bytes 4
  assert.equal(enc('LinuxContainerResources', { cpu_period: 100000, cpu_quota: 50000, cpu_shares: 512, memory_limit_in_bytes: 1024 }), '08a08d06' + '10d08603' + '188004' + '208008');
  // Mount: container_path 1, host_path 2, readonly 3, propagation 5
  assert.equal(enc('Mount', { container_path: '/a', host_path: '/b', readonly: true, propagation: 2 }), '0a022f61' + '12022f62' + '1801' + '2802');
  // PortMapping: protocol 1, container_port 2, host_port 3, host_ip 4
  assert.equal(enc('PortMapping', { protocol: 1, container_port: 80, host_port: 8080, host_ip: 'x' }), '0801' + '1050' + '18903f' + '220178');
  // ContainerConfig: log_path 11, stdin 12, stdin_once 13, tty 14, linux 15
  assert.equal(enc('ContainerConfig', { log_path: 'l', stdin: true, stdin_once: true, tty: true, linux: {} }), '5a016c' + '6001' + '6801' + '7001' + '7a00');
  // PodSandboxConfig: log_directory 3, port_mappings 5, linux 8 (cgroup_parent 1)
  assert.equal(enc('PodSandboxConfig', { log_directory: 'd', linux: { cgroup_parent: 'p' } }), '1a0164' + '42030a0170');
  // ExecSyncResponse: stdout 1, stderr 2 (bytes), exit_code 3
  assert.equal(enc('ExecSyncResponse', { stdout: Buffer.from('o'), stderr: Buffer.from('e'), exit_code: 3 }), '0a016f' + '120165' + '1803');
  // ContainerStatus.exit_code = 7, log_path = 15
  assert.equal(enc('ContainerStatus', { exit_code: 137, log_path: 'x' }), '388901' + '7a0178');
  // StopContainerRequest.timeout = 2 (int64)
  assert.equal(enc('StopContainerRequest', { container_id: 'c', timeout: 2 }), '0a0163' + '1002');
  // ExecRequest: tty 3, stdin 4, stdout 5, stderr 6; AttachRequest: stdin 2, tty 3, stdout 4, stderr 5
  assert.equal(enc('ExecRequest', { tty: true, stdin: true, stdout: true, stderr: true }), '1801200128013001');
  assert.equal(enc('AttachRequest', { stdin: true, tty: true, stdout: true, stderr: true }), '1001180120012801');
  // Device: container_path 1, host_path 2, permissions 3; Capability add 1 drop 2
  assert.equal(enc('Device', { container_path: 'a', host_path: 'b', permissions: 'r' }), '0a0161' + '120162' + '1a0172');
  assert.equal(enc('Capability', { add_capabilities: ['A'], drop_capabilities: ['D'] }), '0a0141' + '120144');
});
