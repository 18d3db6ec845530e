import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, encodeStatus, decodeStatus } from '../../../src/ttrpc/wire.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// Byte vectors derived by hand from ttrpc's Request{service=1, method=2, payload=3,
// timeout_nano=4, metadata=5 (KeyValue key=1 value=2)} and Response{status=1, payload=2}.
const REQUEST =
  '0a17636f6e7461696e6572642e7461736b2e76322e5461736b120553746174651a030a01612080e497d0122a240a1a636f6e7461696e6572642d6e616d6573706163652d747472706312066b38732e696f';
const RESPONSE_NOT_FOUND = '0a14080512107461736b2061206e6f7420666f756e64';

test('Request encodes to the known bytes and back', () => {
  const req = {
    service: 'containerd.task.v2.Task',
    method: 'State',
    payload: Buffer.from('0a0161', 'hex'),
    timeoutNano: 5_000_000_000n,
    metadata: [{ key: 'containerd-namespace-ttrpc', value: 'k8s.io' }],
  };
  assert.equal(hex(encodeRequest(req)), REQUEST);
  const back = decodeRequest(Buffer.from(REQUEST, 'hex'));
  assert.equal(back.service, req.service);
  assert.equal(back.method, req.method);
  assert.equal(hex(back.payload), '0a0161');
  assert.equal(back.timeoutNano, 5_000_000_000n);
  assert.deepEqual(back.metadata, req.metadata);
});

test('Response with a status encodes to the known bytes and back', () => {
  const resp = { status: { code: 5, message: 'task a not found', details: [] }, payload: new Uint8Array(0) };
  assert.equal(hex(encodeResponse(resp)), RESPONSE_NOT_FOUND);
  const back = decodeResponse(Buffer.from(RESPONSE_NOT_FOUND, 'hex'));
  assert.deepEqual(back.status, resp.status);
  assert.equal(back.payload.length, 0);
});

test('OK status with payload; unknown fields are skipped', () => {
  const b = encodeResponse({ status: { code: 0, message: '', details: [] }, payload: Buffer.from('xy') });
  assert.equal(hex(b), '0a0012027879');
  const withUnknown = Buffer.concat([Buffer.from('780a', 'hex'), b]); // field 15 varint 10
  const back = decodeResponse(withUnknown);
  assert.equal(back.status?.code, 0);
  assert.equal(Buffer.from(back.payload).toString(), 'xy');
});

test('Status details (Any) round-trip', () => {
  const s = { code: 9, message: 'busy', details: [{ typeUrl: 'x.Y', value: Buffer.from([1, 2, 3]) }] };
  const back = decodeStatus(encodeStatus(s));
  assert.equal(back.code, 9);
  assert.equal(back.message, 'busy');
  assert.equal(back.details[0]!.typeUrl, 'x.Y');
  assert.deepEqual([...back.details[0]!.value], [1, 2, 3]);
});

test('truncated request is an error', () => {
  assert.throws(() => decodeRequest(Buffer.from(REQUEST, 'hex').subarray(0, 10)));
});
