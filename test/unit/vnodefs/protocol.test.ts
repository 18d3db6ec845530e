// The request decoder and the handler, fed with request bytes as the kernel writes them.
import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { test } from 'node:test';
import { DirentWriter, MalformedRequest, decodeHeader } from '../../../src/vnodefs/codec.js';
import { Handler } from '../../../src/vnodefs/handler.js';
import { Op, ROOT_ID, Size } from '../../../src/vnodefs/protocol.js';
import { Template, nodeIdOf, slotOf } from '../../../src/vnodefs/tree.js';
import { Vnode } from '../../../src/vnodefs/vnode.js';
import { host, NOW, STARTED, V1_A } from '../../fixtures/vnodefs/fixtures.js';

const E = constants.errno;
let unique = 100n;

function req(opcode: number, nodeid: number, body: Buffer = Buffer.alloc(0), pid = 0): Buffer {
  const b = Buffer.alloc(Size.IN_HEADER + body.length);
  b.writeUInt32LE(b.length, 0);
  b.writeUInt32LE(opcode, 4);
  b.writeBigUInt64LE(++unique, 8);
  b.writeBigUInt64LE(BigInt(nodeid), 16);
  b.writeUInt32LE(pid, 32);
  body.copy(b, Size.IN_HEADER);
  return b;
}

const name = (s: string): Buffer => Buffer.from(`${s}\0`);
function readIn(fh: number, offset: number, size: number): Buffer {
  const b = Buffer.alloc(Size.READ_IN);
  b.writeBigUInt64LE(BigInt(fh), 0);
  b.writeBigUInt64LE(BigInt(offset), 8);
  b.writeUInt32LE(size, 16);
  return b;
}

function setup(): Handler {
  const h = new Handler(new Template(8), host, () => NOW);
  h.addVnode(new Vnode('vn-a', { cgroup: V1_A, startedAt: STARTED }));
  return h;
}

function call(h: Handler, b: Buffer): { error: number; unique: bigint; payload: Buffer } {
  const r = h.handle(b, b.length);
  assert.ok(r, 'expected a reply');
  assert.equal(r.readUInt32LE(0), r.length);
  return { error: Math.abs(r.readInt32LE(4)), unique: r.readBigUInt64LE(8), payload: r.subarray(Size.OUT_HEADER) };
}

function lookupPath(h: Handler, path: string): number {
  let node = ROOT_ID;
  for (const part of path.split('/')) {
    const r = call(h, req(Op.LOOKUP, node, name(part)));
    assert.equal(r.error, 0, `lookup ${part}`);
    node = Number(r.payload.readBigUInt64LE(0));
  }
  return node;
}

test('decodeHeader refuses short requests and a length field that disagrees', () => {
  assert.throws(() => decodeHeader(Buffer.alloc(20), 20), MalformedRequest);
  const b = req(Op.GETATTR, 1);
  assert.throws(() => decodeHeader(b, b.length - 1), MalformedRequest);
  assert.equal(decodeHeader(b, b.length).opcode, Op.GETATTR);
});

test('INIT is answered with 7.x, our max_write and only flags the kernel offered', () => {
  const h = setup();
  const body = Buffer.alloc(64);
  body.writeUInt32LE(7, 0);
  body.writeUInt32LE(45, 4);
  body.writeUInt32LE(131072, 8);
  body.writeUInt32LE(0x7fffffff & ~(1 << 18), 12); // everything but PARALLEL_DIROPS
  const r = call(h, req(Op.INIT, 0, body));
  assert.equal(r.error, 0);
  assert.equal(r.payload.length, Size.INIT_OUT);
  assert.equal(r.payload.readUInt32LE(0), 7);
  assert.equal(r.payload.readUInt32LE(4), 38);
  assert.equal(r.payload.readUInt32LE(12) & (1 << 18), 0);
  assert.equal(r.payload.readUInt32LE(20), 128 * 1024);
});

test('lookup, open and read /proc/meminfo of a vNode; reads at offsets serve one snapshot', () => {
  const h = setup();
  const ino = lookupPath(h, 'vn-a/proc/meminfo');
  assert.equal(ino, nodeIdOf(slotOf('vn-a'), new Template(8).lookupPath('proc/meminfo')!));
  const open = call(h, req(Op.OPEN, ino, Buffer.alloc(8)));
  assert.equal(open.error, 0);
  const fh = Number(open.payload.readBigUInt64LE(0));
  assert.equal(open.payload.readUInt32LE(8) & 1, 1, 'FOPEN_DIRECT_IO');
  const all = call(h, req(Op.READ, ino, readIn(fh, 0, 65536))).payload.toString();
  assert.match(all, /^MemTotal:\s+262144 kB\n/);
  const tail = call(h, req(Op.READ, ino, readIn(fh, 10, 65536))).payload.toString();
  assert.equal(tail, all.slice(10));
  assert.equal(call(h, req(Op.READ, ino, readIn(fh, all.length, 4096))).payload.length, 0);
  const rel = Buffer.alloc(Size.RELEASE_IN);
  rel.writeBigUInt64LE(BigInt(fh), 0);
  assert.equal(call(h, req(Op.RELEASE, ino, rel)).error, 0);
  assert.equal(h.stats.openHandles, 0);
});

test('names below a vNode are cached long, a vNode name and cpuN entries for a second; attributes for a second', () => {
  const h = setup();
  const validity = (parent: number, n: string): [number, number] => {
    const r = call(h, req(Op.LOOKUP, parent, name(n)));
    assert.equal(r.error, 0, n);
    return [Number(r.payload.readBigUInt64LE(16)), Number(r.payload.readBigUInt64LE(24))];
  };
  assert.deepEqual(validity(ROOT_ID, 'vn-a'), [1, 1], 'a removed vNode disappears within a second');
  const vn = lookupPath(h, 'vn-a');
  assert.deepEqual(validity(vn, 'proc'), [3600, 1]);
  assert.deepEqual(validity(lookupPath(h, 'vn-a/proc'), 'meminfo'), [3600, 1]);
  assert.deepEqual(validity(lookupPath(h, 'vn-a/sys/devices/system/cpu'), 'cpu0'), [1, 1], 'cpuN follows the CPU limit');
});

test('a READ on a handle unknown to this server (opened before a restart) is rendered afresh', () => {
  const h = setup();
  const ino = lookupPath(h, 'vn-a/proc/uptime');
  const r = call(h, req(Op.READ, ino, readIn(999, 0, 4096)));
  assert.equal(r.error, 0);
  assert.equal(r.payload.toString(), '100.00 188.00\n');
});

test('write opens, creation and unknown names fail with the exact errno', () => {
  const h = setup();
  const ino = lookupPath(h, 'vn-a/proc/meminfo');
  const flags = Buffer.alloc(8);
  flags.writeUInt32LE(1, 0); // O_WRONLY
  assert.equal(call(h, req(Op.OPEN, ino, flags)).error, E.EACCES);
  assert.equal(call(h, req(Op.MKDIR, lookupPath(h, 'vn-a/proc'), Buffer.concat([Buffer.alloc(8), name('x')]))).error, E.EACCES);
  assert.equal(call(h, req(Op.LOOKUP, ROOT_ID, name('nope'))).error, E.ENOENT);
  assert.equal(call(h, req(Op.GETATTR, nodeIdOf(slotOf('gone'), 1))).error, E.ENOENT);
  assert.equal(call(h, req(Op.OPEN, lookupPath(h, 'vn-a/proc'), Buffer.alloc(8))).error, E.EISDIR);
});

test('cpuN directories beyond the vCPU count are absent (1.5 CPUs: cpu0, cpu1)', () => {
  const h = setup();
  const dir = lookupPath(h, 'vn-a/sys/devices/system/cpu');
  assert.equal(call(h, req(Op.LOOKUP, dir, name('cpu1'))).error, 0);
  assert.equal(call(h, req(Op.LOOKUP, dir, name('cpu2'))).error, E.ENOENT);
});

test('READDIR lists entries with offsets; a small buffer resumes where it stopped', () => {
  const h = setup();
  const dir = lookupPath(h, 'vn-a/proc');
  const names: string[] = [];
  let offset = 0;
  for (let i = 0; i < 50; i++) {
    const p = call(h, req(Op.READDIR, dir, readIn(0, offset, 80))).payload;
    if (p.length === 0) break;
    for (let at = 0; at < p.length; ) {
      const len = p.readUInt32LE(at + 16);
      names.push(p.toString('utf8', at + 24, at + 24 + len));
      offset = Number(p.readBigUInt64LE(at + 8));
      at += (24 + len + 7) & ~7;
    }
  }
  assert.deepEqual(names, ['.', '..', 'meminfo', 'cpuinfo', 'stat', 'uptime', 'loadavg', 'diskstats', 'swaps', 'pressure', 'sys']);
});

test('unknown opcodes get ENOSYS, truncated bodies EINVAL, and FORGET/INTERRUPT no reply', () => {
  const h = setup();
  assert.equal(call(h, req(4242, ROOT_ID)).error, E.ENOSYS);
  assert.equal(call(h, req(Op.READ, ROOT_ID, Buffer.alloc(4))).error, E.EINVAL);
  assert.equal(call(h, req(Op.LOOKUP, ROOT_ID, Buffer.from('no-nul'))).error, E.EINVAL);
  assert.equal(h.handle(req(Op.FORGET, ROOT_ID, Buffer.alloc(8)), Size.IN_HEADER + 8), null);
  assert.equal(h.handle(req(Op.INTERRUPT, 0, Buffer.alloc(8)), Size.IN_HEADER + 8), null);
  // length field says more than was read: answered EINVAL by unique, not crashed
  const bad = req(Op.GETATTR, ROOT_ID);
  const r = h.handle(bad, bad.length - 2);
  assert.ok(r);
  assert.equal(-r.readInt32LE(4), E.EINVAL);
  assert.equal(h.handle(Buffer.alloc(8), 8), null);
  assert.equal(h.stats.malformed, 4);
});

function writeIn(fh: number, offset: number, data: string): Buffer {
  const d = Buffer.from(data);
  const b = Buffer.alloc(Size.WRITE_IN + d.length);
  b.writeBigUInt64LE(BigInt(fh), 0);
  b.writeBigUInt64LE(BigInt(offset), 8);
  b.writeUInt32LE(d.length, 16);
  d.copy(b, Size.WRITE_IN);
  return b;
}

function openFh(h: Handler, ino: number, flags: number): number {
  const f = Buffer.alloc(8);
  f.writeUInt32LE(flags, 0);
  const r = call(h, req(Op.OPEN, ino, f));
  assert.equal(r.error, 0);
  return Number(r.payload.readBigUInt64LE(0));
}

function readAll(h: Handler, ino: number): string {
  return call(h, req(Op.READ, ino, readIn(openFh(h, ino, 0), 0, 4096))).payload.toString();
}

test('sysctls: a vNode reads back what it wrote, another vNode and the host keep theirs; bad values get EINVAL', () => {
  const h = setup();
  h.addVnode(new Vnode('vn-b', { cgroup: V1_A, startedAt: STARTED }));
  const a = lookupPath(h, 'vn-a/proc/sys/vm/max_map_count');
  const b = lookupPath(h, 'vn-b/proc/sys/vm/max_map_count');
  assert.equal(readAll(h, a), '65530\n');
  const fh = openFh(h, a, 1 /* O_WRONLY */);
  assert.equal(call(h, req(Op.WRITE, a, writeIn(fh, 0, '262144\n'))).payload.readUInt32LE(0), 7);
  assert.equal(readAll(h, a), '262144\n');
  assert.equal(readAll(h, b), '65530\n');
  assert.equal(host.proc('sys/vm/max_map_count'), '65530\n');
  assert.equal(call(h, req(Op.WRITE, a, writeIn(fh, 0, 'lots\n'))).error, E.EINVAL);
  assert.equal(call(h, req(Op.WRITE, a, writeIn(fh, 3, '1\n'))).error, E.EINVAL);
  const core = lookupPath(h, 'vn-a/proc/sys/kernel/core_pattern');
  call(h, req(Op.WRITE, core, writeIn(openFh(h, core, 1), 0, '|/bin/false %p\n')));
  assert.equal(readAll(h, core), '|/bin/false %p\n');
});

test('sysctls: only the vNode root (or host root) may write when rootHostUid is set', () => {
  const h = new Handler(new Template(8), host, () => NOW);
  h.addVnode(new Vnode('vn-a', { cgroup: V1_A, startedAt: STARTED, rootHostUid: 200000 }));
  const ino = lookupPath(h, 'vn-a/proc/sys/vm/max_map_count');
  const f = Buffer.alloc(8);
  f.writeUInt32LE(1, 0);
  const asUser = req(Op.OPEN, ino, f);
  asUser.writeUInt32LE(200001, 24);
  assert.equal(call(h, asUser).error, E.EACCES);
  const asRoot = req(Op.OPEN, ino, f);
  asRoot.writeUInt32LE(200000, 24);
  assert.equal(call(h, asRoot).error, 0);
  // read-only generated files stay read-only for the vNode root too
  const mem = req(Op.OPEN, lookupPath(h, 'vn-a/proc/meminfo'), f);
  mem.writeUInt32LE(200000, 24);
  assert.equal(call(h, mem).error, E.EACCES);
});

test('FLUSH is answered ENOSYS so the kernel stops sending it', () => {
  assert.equal(call(setup(), req(Op.FLUSH, ROOT_ID, Buffer.alloc(24))).error, E.ENOSYS);
});

test('DirentWriter pads names to 8 bytes and stops when full', () => {
  const w = new DirentWriter(32);
  assert.equal(w.add(5, 1, 8, 'abc'), true);
  assert.equal(w.add(6, 2, 8, 'def'), false);
  const b = w.finish();
  assert.equal(b.length, 32);
  assert.equal(b.toString('utf8', 24, 27), 'abc');
});

test('node ids are stable per vNode id and different between vNodes', () => {
  assert.equal(slotOf('ns-default'), slotOf('ns-default'));
  assert.notEqual(slotOf('ns-default'), slotOf('ns-kube-system'));
  assert.ok(nodeIdOf(0x7fffffff, 2 ** 20 - 1) <= Number.MAX_SAFE_INTEGER);
});
