import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { WebSocketServer } from 'ws';
import { Channel, exitCodeFromStatus, openStream, runStream, StreamError } from '../../../src/k8s/cri/remotecommand.js';

test('exit codes from remote-command v4 status messages', () => {
  assert.equal(exitCodeFromStatus({ metadata: {}, status: 'Success' }), 0);
  assert.equal(exitCodeFromStatus({
    metadata: {}, status: 'Failure', reason: 'NonZeroExitCode', message: 'command terminated with non-zero exit code',
    details: { causes: [{ reason: 'ExitCode', message: '3' }] },
  }), 3);
  assert.equal(exitCodeFromStatus({ status: 'Failure', reason: 'InternalError', message: 'container not found' }), undefined);
  assert.equal(exitCodeFromStatus({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [] } }), undefined);
});

// The remote-command framing against a real `ws` server on loopback, playing containerd's
// streaming server: subprotocol choice, channel bytes both ways, the v5 close signal,
// resize JSON, the status message, refused upgrades and the timeout.
describe('remote-command streams over WebSocket', () => {
  let http: Server;
  let wss: WebSocketServer;
  let base = '';
  /** What the client sent, per connection path. */
  const got = new Map<string, Buffer[]>();
  const status = (code: number) => JSON.stringify(code === 0 ? { status: 'Success' } : {
    status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(code) }] },
  });
  const msg = (channel: number, data: string | Buffer) => Buffer.concat([Buffer.from([channel]), Buffer.from(data)]);

  before(async () => {
    http = createServer((_req, res) => { res.writeHead(404); res.end('no such session'); });
    wss = new WebSocketServer({
      noServer: true,
      handleProtocols: (offered, req) => (req.url !== '/no-protocol' && offered.has('v5.channel.k8s.io') ? 'v5.channel.k8s.io' : false),
    });
    http.on('upgrade', (req, socket, head) => {
      if (req.url === '/refuse') { socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 15\r\n\r\nno such session'); return; }
      wss.handleUpgrade(req, socket, head, (ws) => {
        const path = req.url ?? '';
        const frames: Buffer[] = [];
        got.set(path, frames);
        // channel-open notifications first, as the kubelet streaming server sends them
        for (const ch of [Channel.STDOUT, Channel.STDERR, Channel.ERROR]) ws.send(Buffer.from([ch]));
        if (path === '/exec') {
          // everything in one burst, with the 101 response still in flight
          ws.send(msg(Channel.STDOUT, 'out-line\n'));
          ws.send(msg(Channel.STDERR, 'err-line\n'));
          ws.send(msg(Channel.ERROR, status(5)));
          ws.close(1000);
        } else if (path === '/stdin') {
          ws.on('message', (d: Buffer) => {
            frames.push(d);
            if (d[0] === Channel.CLOSE) {
              const stdin = Buffer.concat(frames.filter((f) => f[0] === Channel.STDIN).map((f) => f.subarray(1)));
              ws.send(msg(Channel.STDOUT, `got:${stdin.toString()}`));
              ws.send(msg(Channel.ERROR, status(0)));
              ws.close(1000);
            }
          });
        } else if (path === '/failure') {
          ws.send(msg(Channel.ERROR, JSON.stringify({ status: 'Failure', reason: 'InternalError', message: 'container not found' })));
          ws.close(1000);
        } else if (path === '/silent') {
          ws.on('message', (d: Buffer) => frames.push(d));
        }
      });
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });
  after(() => { wss.close(); http.closeAllConnections(); http.close(); });

  test('stdout, stderr and the exit code arrive on their channels (v5 chosen)', { timeout: 10_000 }, async () => {
    const r = await runStream(`${base}/exec`);
    assert.equal(r.protocol, 'v5.channel.k8s.io');
    assert.equal(r.stdout.toString(), 'out-line\n');
    assert.equal(r.stderr.toString(), 'err-line\n');
    assert.equal(r.exitCode, 5);
    assert.equal(r.error, undefined);
    assert.deepEqual(r.status?.['reason'], 'NonZeroExitCode');
  });

  test('stdin, resize and the v5 stdin close go out as channel-prefixed binary messages', { timeout: 10_000 }, async () => {
    const chunks: string[] = [];
    const r = await runStream(`${base}/stdin`, { stdin: 'hello\n', size: { width: 100, height: 30 }, onStdout: (b) => chunks.push(b.toString()) });
    assert.equal(r.exitCode, 0);
    assert.equal(r.stdout.toString(), 'got:hello\n');
    assert.deepEqual(chunks, ['got:hello\n']);
    const frames = got.get('/stdin')!;
    assert.deepEqual(frames.map((f) => f[0]), [Channel.RESIZE, Channel.STDIN, Channel.CLOSE]);
    assert.deepEqual(JSON.parse(frames[0]!.subarray(1).toString()), { Width: 100, Height: 30 });
    assert.deepEqual([...frames[2]!], [Channel.CLOSE, Channel.STDIN]);
  });

  test('a failure status without an exit code is reported as the error, exit code -1', { timeout: 10_000 }, async () => {
    const r = await runStream(`${base}/failure`);
    assert.equal(r.exitCode, -1);
    assert.equal(r.error, 'container not found');
  });

  test('a stream that ends without a status, by our close, says so', { timeout: 10_000 }, async () => {
    const s = await openStream(`${base}/silent`, { timeoutMs: 0 });
    s.write('x');
    s.close();
    const r = await s.done;
    assert.equal(r.exitCode, -1);
    assert.equal(r.error, 'remotecommand: stream closed without an exit status');
    assert.deepEqual(got.get('/silent')!.map((f) => [...f]), [[Channel.STDIN, 0x78]]);
  });

  test('the timeout ends a stream that never finishes', { timeout: 10_000 }, async () => {
    const r = await runStream(`${base}/silent`, { timeoutMs: 300 });
    assert.equal(r.exitCode, -1);
    assert.equal(r.error, 'remotecommand: timed out after 300 ms');
  });

  test('a refused upgrade reports the HTTP status and body', { timeout: 10_000 }, async () => {
    await assert.rejects(openStream(`${base}/refuse`), (err: unknown) => {
      assert.ok(err instanceof StreamError);
      assert.equal(err.code, 'VNODE_STREAM_REFUSED');
      assert.equal(err.statusCode, 404);
      assert.match(err.message, /HTTP 404: no such session/);
      return true;
    });
  });

  test('a server that selects no offered subprotocol is refused', { timeout: 10_000 }, async () => {
    await assert.rejects(openStream(`${base}/no-protocol`), (err: unknown) => {
      assert.ok(err instanceof StreamError);
      assert.equal(err.code, 'VNODE_STREAM_CONNECT');
      assert.match(err.message, /subprotocol/);
      return true;
    });
  });
});
