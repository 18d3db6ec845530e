import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeHeader, encodeFrame, FrameReader, HEADER_LENGTH, MAX_MESSAGE_LENGTH, MessageType, OversizedMessageError } from '../../../src/ttrpc/frame.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

test('header layout: length BE32, stream BE32, type, flags', () => {
  // 3-byte payload, stream 1, request, no flags
  assert.equal(hex(encodeFrame(1, MessageType.Request, 0, Buffer.from('abc'))), '00000003000000010100616263');
  const h = decodeHeader(Buffer.from('0000012c0000000703050000', 'hex'));
  assert.deepEqual(h, { length: 300, streamId: 7, type: 3, flags: 5 });
  assert.equal(HEADER_LENGTH, 10);
  assert.equal(MAX_MESSAGE_LENGTH, 4 * 1024 * 1024);
});

test('frames split at every byte boundary are reassembled', () => {
  const wire = Buffer.concat([
    encodeFrame(1, MessageType.Request, 0, Buffer.from('hello')),
    encodeFrame(3, MessageType.Response, 0, Buffer.alloc(0)),
    encodeFrame(5, MessageType.Data, 1, Buffer.from('world!')),
  ]);
  for (let cut = 1; cut < wire.length; cut++) {
    const r = new FrameReader();
    const events = [...r.push(wire.subarray(0, cut)), ...r.push(wire.subarray(cut))];
    const frames = events.map((e) => (e.kind === 'frame' ? e.frame : assert.fail('unexpected oversized')));
    assert.deepEqual(
      frames.map((f) => [f.streamId, f.type, f.flags, Buffer.from(f.payload).toString()]),
      [
        [1, 1, 0, 'hello'],
        [3, 2, 0, ''],
        [5, 3, 1, 'world!'],
      ],
      `cut at ${cut}`,
    );
    assert.equal(r.pending, 0);
  }
});

test('one byte at a time', () => {
  const wire = Buffer.concat([encodeFrame(9, 1, 0, Buffer.from('xyz')), encodeFrame(11, 1, 0, Buffer.from('q'))]);
  const r = new FrameReader();
  const got: string[] = [];
  for (const b of wire) for (const e of r.push(Buffer.from([b]))) if (e.kind === 'frame') got.push(`${e.frame.streamId}:${Buffer.from(e.frame.payload)}`);
  assert.deepEqual(got, ['9:xyz', '11:q']);
});

test('oversized frame is skipped, reported once, and the next frame still parses', () => {
  const big = 64;
  const r = new FrameReader(big);
  const over = Buffer.alloc(HEADER_LENGTH + big + 1);
  over.writeUInt32BE(big + 1, 0);
  over.writeUInt32BE(7, 4);
  over[8] = 1;
  const next = encodeFrame(9, 1, 0, Buffer.from('ok'));
  const all = Buffer.concat([over, next]);
  const events = [...r.push(all.subarray(0, 20)), ...r.push(all.subarray(20, 40)), ...r.push(all.subarray(40))];
  assert.equal(events.length, 2);
  assert.equal(events[0]!.kind, 'oversized');
  assert.equal(events[0]!.kind === 'oversized' && events[0]!.header.streamId, 7);
  assert.equal(events[1]!.kind === 'frame' && Buffer.from(events[1]!.frame.payload).toString(), 'ok');
});

test('encodeFrame refuses payloads over 4 MiB', () => {
  assert.throws(() => encodeFrame(1, 1, 0, new Uint8Array(MAX_MESSAGE_LENGTH + 1)), OversizedMessageError);
  assert.equal(encodeFrame(1, 1, 0, new Uint8Array(MAX_MESSAGE_LENGTH)).length, MAX_MESSAGE_LENGTH + HEADER_LENGTH);
});

test('unknown message types are delivered as frames (the server decides to ignore them)', () => {
  const r = new FrameReader();
  const ev = r.push(encodeFrame(1, 0x7f, 0, Buffer.from('?')));
  assert.equal(ev.length, 1);
  assert.equal(ev[0]!.kind === 'frame' && ev[0]!.frame.type, 0x7f);
});
