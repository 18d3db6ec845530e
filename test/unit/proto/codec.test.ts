import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  decode,
  encode,
  packAny,
  unpackAny,
  anyTypeName,
  messageType,
  messageName,
  TaskDefinition,
  TaskStatus,
  TOPIC_MESSAGE,
  type CgroupV1,
  type CgroupV2,
  type CreateTaskRequest,
  type DeleteResponse,
  type ForwardRequest,
  type RuncOptions,
  type StateResponse,
  type TaskExit,
  type UpdateTaskRequest,
} from '../../../src/proto/index.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// A field's number as the codec puts it on the wire: encode a message with only that
// field set and read the tag of the first (only) field.
const STRING = 'x';
const fieldNumber = (type: string, field: string, value: unknown = STRING) => encode(type, { [field]: value })[0]! >>> 3;
// A message's name as written in a service of `pkg` (protobuf's relative form).
const relName = (codec: Parameters<typeof messageName>[0], pkg: string) => {
  const n = messageName(codec)!;
  return n.startsWith(`${pkg}.`) ? n.slice(pkg.length + 1) : n;
};

// Vectors derived by hand from the field numbers in containerd's .proto files.
test('DeleteResponse{pid=1, exit_status=2, exited_at=3 (Timestamp seconds=1 nanos=2)}', () => {
  const resp: DeleteResponse = { pid: 42, exitStatus: 137, exitedAt: new Date(1_700_000_000_123) };
  const b = encode('containerd.task.v2.DeleteResponse', resp);
  assert.equal(hex(b), '082a1089011a0b0880e2cfaa0610c0a9d33a');
  assert.deepEqual(decode('containerd.task.v2.DeleteResponse', b), resp);
});

test('StateResponse: enum status=4 as a number', () => {
  const b = Buffer.from('0a016118642002', 'hex');
  const s = decode<StateResponse>('containerd.task.v2.StateResponse', b);
  assert.equal(s.id, 'a');
  assert.equal(s.pid, 100);
  assert.equal(s.status, TaskStatus.Running);
  assert.equal(s.exitedAt, undefined, 'absent timestamp stays undefined');
  assert.equal(s.execId, '', 'proto3 defaults are filled in');
  assert.equal(hex(encode('containerd.task.v2.StateResponse', { ...s, status: TaskStatus.Running })), '0a016118642002');
});

test('ForwardRequest{envelope{timestamp, namespace, topic, event Any}} with a TaskExit', () => {
  const exit: TaskExit = { containerId: 'c1', id: 'c1', pid: 7, exitStatus: 3 };
  const fwd: ForwardRequest = {
    envelope: { timestamp: new Date(1_700_000_000_500), namespace: 'default', topic: '/tasks/exit', event: packAny(TOPIC_MESSAGE['/tasks/exit'], exit) },
  };
  const b = encode('containerd.services.events.ttrpc.v1.ForwardRequest', fwd);
  assert.equal(
    hex(b),
    '0a500a0c0880e2cfaa061080cab5ee01120764656661756c741a0b2f7461736b732f65786974222a0a1a636f6e7461696e6572642e6576656e74732e5461736b45786974120c0a0263311202633118072003',
  );
  const back = decode<ForwardRequest>('containerd.services.events.ttrpc.v1.ForwardRequest', b);
  assert.equal(back.envelope!.topic, '/tasks/exit');
  assert.equal(anyTypeName(back.envelope!.event!), 'containerd.events.TaskExit');
  assert.deepEqual(unpackAny<TaskExit>(back.envelope!.event!), { ...exit, exitReason: 0 });
});

test('cgroups v1 Metrics: 64-bit counters as bigint, full range', () => {
  const m: CgroupV1.Metrics = { pids: { current: 3n }, memory: { usage: { limit: 2n ** 64n - 1n, usage: 1_048_576n } } };
  const b = encode('io.containerd.cgroups.v1.Metrics', m);
  assert.equal(hex(b), '1202080322128a020f08ffffffffffffffffff0110808040');
  const back = decode<CgroupV1.Metrics>('io.containerd.cgroups.v1.Metrics', b);
  assert.equal(back.memory!.usage!.limit, 2n ** 64n - 1n);
  assert.equal(back.pids!.current, 3n);
  assert.equal(back.pids!.limit, 0n);
});

test('cgroups v2 Metrics round-trip (memory is field 4, there is no field 3)', () => {
  const m: CgroupV2.Metrics = {
    pids: { current: 1n, limit: 100n },
    cpu: { usageUsec: 123456789n, nrThrottled: 2n },
    memory: { usage: 4096n, usageLimit: 9223372036854771712n, swapMaxUsage: 1n },
    memoryEvents: { oomKill: 1n },
    io: { usage: [{ major: 8n, minor: 0n, rbytes: 10n }] },
    hugetlb: [{ current: 0n, max: 0n, pagesize: '2MB' }],
  };
  const b = encode('io.containerd.cgroups.v2.Metrics', m);
  assert.equal(b[0], 0x0a); // pids = 1, length-delimited
  assert.ok(b.includes(0x22), 'memory encoded with tag 0x22 (field 4)');
  const back = decode<CgroupV2.Metrics>('io.containerd.cgroups.v2.Metrics', b);
  assert.equal(back.memory!.usageLimit, 9223372036854771712n);
  assert.equal(back.cpu!.usageUsec, 123456789n);
  assert.equal(back.memoryEvents!.oomKill, 1n);
  assert.equal(back.io!.usage![0]!.rbytes, 10n);
  assert.equal(back.hugetlb![0]!.pagesize, '2MB');
});

test('CreateTaskRequest: repeated Mount, runc options Any, every field survives', () => {
  const opts: Partial<RuncOptions> = { binaryName: 'crun', systemdCgroup: true, root: '/run/x', ioUid: 5 };
  const req: CreateTaskRequest = {
    id: 'c1',
    bundle: '/run/containerd/io.containerd.runtime.v2.task/k8s.io/c1',
    rootfs: [{ type: 'overlay', source: 'overlay', target: '', options: ['lowerdir=/a:/b', 'upperdir=/u', 'workdir=/w'] }],
    terminal: true,
    stdin: '/s/in',
    stdout: '/s/out',
    stderr: '/s/err',
    checkpoint: 'cp',
    parentCheckpoint: 'pcp',
    options: packAny('containerd.runc.v1.Options', opts),
    oomPath: '/oom',
  };
  const back = decode<CreateTaskRequest>('containerd.task.v2.CreateTaskRequest', encode('containerd.task.v2.CreateTaskRequest', req));
  assert.deepEqual({ ...back, options: undefined }, { ...req, options: undefined });
  assert.equal(back.options!.typeUrl, 'containerd.runc.v1.Options');
  const o = unpackAny<RuncOptions>(back.options!);
  assert.equal(o.binaryName, 'crun');
  assert.equal(o.systemdCgroup, true);
  assert.equal(o.ioUid, 5);
  assert.equal(o.noPivotRoot, false);
});

test('UpdateTaskRequest: map<string,string> annotations', () => {
  const req: UpdateTaskRequest = { id: 'x', annotations: { a: '1', 'io.kubernetes.cri.container-type': 'container' }, resources: { typeUrl: 'types.containerd.io/opencontainers/runtime-spec/1/LinuxResources', value: Buffer.from('{}') } };
  const back = decode<UpdateTaskRequest>('containerd.task.v2.UpdateTaskRequest', encode('containerd.task.v2.UpdateTaskRequest', req));
  assert.deepEqual(back.annotations, req.annotations);
  assert.equal(anyTypeName(back.resources!), 'LinuxResources');
  assert.equal(Buffer.from(back.resources!.value).toString(), '{}');
});

test('every Task RPC is declared with the request/response messages of shim.proto', () => {
  const pkg = TaskDefinition.fullName.slice(0, TaskDefinition.fullName.lastIndexOf('.'));
  const rpcs = Object.fromEntries(Object.values(TaskDefinition.methods).map((m) => [m.name, [relName(m.requestType, pkg), relName(m.responseType, pkg)]]));
  assert.deepEqual(Object.keys(rpcs).sort(), [
    'Checkpoint', 'CloseIO', 'Connect', 'Create', 'Delete', 'Exec', 'Kill', 'Pause', 'Pids', 'ResizePty', 'Resume', 'Shutdown', 'Start', 'State', 'Stats', 'Update', 'Wait',
  ]);
  assert.deepEqual(rpcs.Create, ['CreateTaskRequest', 'CreateTaskResponse']);
  assert.deepEqual(rpcs.Kill, ['KillRequest', 'google.protobuf.Empty']);
  // Field numbers that containerd relies on.
  assert.equal(fieldNumber('containerd.task.v2.CreateTaskRequest', 'oomPath'), 11);
  assert.equal(fieldNumber('containerd.task.v2.StateResponse', 'execId'), 11);
  assert.equal(fieldNumber('containerd.task.v2.KillRequest', 'all', true), 4);
  assert.equal(fieldNumber('containerd.events.TaskExit', 'exitReason', 1), 6);
  assert.equal(fieldNumber('containerd.types.Envelope', 'event', { typeUrl: 'x', value: new Uint8Array() }), 4);
  assert.equal(fieldNumber('containerd.runc.v1.Options', 'taskApiVersion', 2), 15);
});

test('every event topic maps to a known message', () => {
  for (const [topic, name] of Object.entries(TOPIC_MESSAGE)) {
    assert.ok(messageType(name), `${topic} → ${name}`);
    assert.match(topic, /^\/tasks\/[a-z-]+$/);
  }
});

test('decode of garbage fails', () => {
  assert.throws(() => decode('containerd.task.v2.CreateTaskRequest', Buffer.from([0x0a, 0x10, 0x01])));
});
