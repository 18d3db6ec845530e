// RequestJournal / replay: long calls (Task.Wait) read by one server process are
// recorded, and a later process that adopted the connection answers them on the
// original stream.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { TtrpcClient, TtrpcServer, type RequestJournal, type TtrpcConnection } from '../../../src/ttrpc/index.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vnode-journal-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('journaled calls are recorded until answered and can be replayed on their stream', async () => {
  const path = join(dir, 'j.sock');
  const open = new Map<number, Uint8Array>();
  const log: string[] = [];
  const journal: RequestJournal = {
    wants: (service, method) => service === 'test.Svc' && method === 'Wait',
    begin: (_c, id, req) => {
      open.set(id, req);
      log.push(`begin ${id}`);
    },
    end: (_c, id) => {
      open.delete(id);
      log.push(`end ${id}`);
    },
  };
  let release: (() => void) | undefined;
  let conn: TtrpcConnection | undefined;
  const server = new TtrpcServer({ journal, onConnection: (c) => (conn = c) });
  server.register('test.Svc', {
    Wait: (p) => new Promise((res) => (release = () => res(p))),
    Echo: async (p) => p,
  });
  await server.listen(path);
  const client = new TtrpcClient(path);
  try {
    const waiting = client.call('test.Svc', 'Wait', Buffer.from('w1')); // stream 1
    assert.equal(Buffer.from(await client.call('test.Svc', 'Echo', Buffer.from('e'))).toString(), 'e'); // stream 3, not journaled
    assert.deepEqual(log, ['begin 1']);
    assert.ok(open.has(1));
    // Replay the recorded request (as a restarted manager would after adopting the connection):
    // the replayed handler's answer reaches the caller still waiting on stream 1.
    conn!.replay(1, open.get(1)!);
    await new Promise((r) => setTimeout(r, 20));
    release!();
    assert.equal(Buffer.from(await waiting).toString(), 'w1');
    await new Promise((r) => setTimeout(r, 20));
    assert.ok(log.includes('end 1'));
    // Replay moved the stream counter: the client's next (higher) id still works.
    assert.equal(Buffer.from(await client.call('test.Svc', 'Echo', Buffer.from('f'))).toString(), 'f');
  } finally {
    client.close();
    await server.close();
  }
});
