// The Kubernetes remote-command protocol over WebSocket, as served at the URLs that CRI
// Exec and Attach return (containerd's streaming server is kubelet's pkg/cri/streaming).
//
// Each binary message is <channel byte><data>: 0 stdin (client→server), 1 stdout, 2 stderr,
// 3 error/status (server→client), 4 resize (client→server, JSON {"Width":w,"Height":h}).
// v4.channel.k8s.io: the error channel carries a metav1.Status JSON once the command ends:
//   {"status":"Success"}  or  {"status":"Failure","reason":"NonZeroExitCode",
//   "details":{"causes":[{"reason":"ExitCode","message":"3"}]}, ...}
// v5.channel.k8s.io adds a close signal: <255><channel> half-closes that channel (stdin EOF).
// With a tty, stderr is merged into stdout by the runtime.
//
// The WebSocket itself (RFC 6455 framing, masking, ping/pong, the closing handshake) is
// the `ws` package's; Node 20 has no WebSocket client of its own.
import WebSocket from 'ws';

export const Channel = { STDIN: 0, STDOUT: 1, STDERR: 2, ERROR: 3, RESIZE: 4, CLOSE: 255 } as const;
export const STREAM_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'] as const;

export interface StreamResult {
  /** The command's exit code; -1 when the runtime reported an error without one. */
  exitCode: number;
  stdout: Buffer;
  stderr: Buffer;
  /** The parsed status from the error channel (null if none arrived). */
  status: Record<string, unknown> | null;
  /** Error text when the stream failed for another reason than a non-zero exit. */
  error?: string;
  protocol: string;
}

export interface StreamOptions {
  /** Sent on stdin right after connecting (requires the Exec/Attach request to ask for stdin). */
  stdin?: Buffer | string;
  /** Half-close stdin after `stdin` was sent (v5 only; on v4 stdin ends with the connection). Default true. */
  closeStdin?: boolean;
  onStdout?: (chunk: Buffer) => void;
  onStderr?: (chunk: Buffer) => void;
  /** Initial terminal size (sent on the resize channel). */
  size?: { width: number; height: number };
  /** Give up (and close the connection) after this many ms. Default 60 s; 0 = never. */
  timeoutMs?: number;
}

export interface StreamSession {
  readonly protocol: string;
  /** Writes to the process's stdin. */
  write(data: Buffer | string): void;
  /** Ends stdin (v5.channel.k8s.io); returns false when the protocol cannot (v4). */
  closeStdin(): boolean;
  resize(width: number, height: number): void;
  /** Resolves when the server closes the stream (normally after the exit status). */
  readonly done: Promise<StreamResult>;
  /** Closes the connection from our side. */
  close(): void;
}

/** Exit code from a v4/v5 status message: 0 for Success, the ExitCode cause for NonZeroExitCode, otherwise undefined. */
export function exitCodeFromStatus(status: Record<string, unknown>): number | undefined {
  if (status['status'] === 'Success') return 0;
  if (status['reason'] === 'NonZeroExitCode') {
    const details = status['details'] as { causes?: { reason?: string; message?: string }[] } | undefined;
    const cause = details?.causes?.find((c) => c.reason === 'ExitCode');
    const code = cause?.message !== undefined ? Number.parseInt(cause.message, 10) : NaN;
    if (Number.isInteger(code)) return code;
  }
  return undefined;
}

/** Why a remote-command stream could not be opened. */
export class StreamError extends Error {
  override name = 'StreamError';
  constructor(
    message: string,
    /** VNODE_STREAM_REFUSED (the server answered without upgrading), VNODE_STREAM_PROTOCOL, VNODE_STREAM_CONNECT. */
    readonly code: 'VNODE_STREAM_REFUSED' | 'VNODE_STREAM_PROTOCOL' | 'VNODE_STREAM_CONNECT',
    /** The HTTP status of a refused upgrade. */
    readonly statusCode?: number,
    readonly body?: string,
  ) {
    super(message);
  }
}

/** Resolves when `ws` is open; a refused upgrade is reported with the server's status and body. */
function opened(ws: WebSocket, url: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new StreamError(`websocket ${url}: ${err.message}`, 'VNODE_STREAM_CONNECT'));
    ws.once('error', onError);
    ws.once('open', () => { ws.off('error', onError); resolve(); });
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { if (body.length < 4096) body += c; });
      res.on('end', () => {
        reject(new StreamError(`websocket ${url}: HTTP ${res.statusCode}: ${body.trim()}`, 'VNODE_STREAM_REFUSED', res.statusCode, body));
        req.destroy();
      });
    });
  });
}

export async function openStream(url: string, opts: StreamOptions = {}): Promise<StreamSession> {
  // http(s):// as the CRI returns it is accepted by ws as it is.
  const ws = new WebSocket(url, [...STREAM_PROTOCOLS], { handshakeTimeout: opts.timeoutMs || 30_000, perMessageDeflate: false });
  const stdout: Buffer[] = [];
  const stderr: Buffer[] = [];
  let status: Record<string, unknown> | null = null;
  let errorText: string | undefined;
  const errorChunks: Buffer[] = [];
  let protocol = '';

  // The listeners go on before the handshake completes: frames that come in the same
  // packet as the 101 response are parsed before an awaiting caller would run again.
  const done = new Promise<StreamResult>((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    if (opts.timeoutMs !== 0) {
      timer = setTimeout(() => { errorText = `remotecommand: timed out after ${opts.timeoutMs ?? 60_000} ms`; ws.terminate(); }, opts.timeoutMs ?? 60_000);
      timer.unref();
    }
    ws.on('message', (raw: WebSocket.RawData) => {
      const data = Array.isArray(raw) ? Buffer.concat(raw) : Buffer.isBuffer(raw) ? raw : Buffer.from(raw);
      if (data.length === 0) return;
      const channel = data[0]!;
      const payload = data.subarray(1);
      if (payload.length === 0) return; // channel-open notification
      if (channel === Channel.STDOUT) { stdout.push(payload); opts.onStdout?.(payload); }
      else if (channel === Channel.STDERR) { stderr.push(payload); opts.onStderr?.(payload); }
      else if (channel === Channel.ERROR) errorChunks.push(payload);
    });
    ws.on('error', (err: Error) => { errorText ??= err.message; });
    ws.on('close', () => {
      if (timer) clearTimeout(timer);
      let exitCode = -1;
      if (errorChunks.length) {
        const text = Buffer.concat(errorChunks).toString('utf8');
        try {
          status = JSON.parse(text) as Record<string, unknown>;
          const code = exitCodeFromStatus(status);
          if (code !== undefined) exitCode = code;
          else errorText ??= String(status['message'] ?? text);
        } catch {
          errorText ??= text;
        }
      } else {
        errorText ??= 'remotecommand: stream closed without an exit status';
      }
      resolve({
        exitCode, stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), status,
        ...(errorText !== undefined && exitCode === -1 ? { error: errorText } : {}), protocol,
      });
    });
  });

  await opened(ws, url);
  protocol = ws.protocol;
  if (!STREAM_PROTOCOLS.includes(protocol as (typeof STREAM_PROTOCOLS)[number])) {
    ws.terminate();
    throw new StreamError(`remotecommand: server selected unsupported protocol '${protocol}'`, 'VNODE_STREAM_PROTOCOL');
  }

  const send = (channel: number, data: Buffer) => {
    if (ws.readyState === WebSocket.OPEN) ws.send(Buffer.concat([Buffer.from([channel]), data]));
  };

  const session: StreamSession = {
    protocol,
    write: (data) => send(Channel.STDIN, typeof data === 'string' ? Buffer.from(data) : data),
    closeStdin: () => {
      if (protocol !== 'v5.channel.k8s.io') return false;
      send(Channel.CLOSE, Buffer.from([Channel.STDIN]));
      return true;
    },
    resize: (width, height) => send(Channel.RESIZE, Buffer.from(JSON.stringify({ Width: width, Height: height }))),
    done,
    close: () => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.close(1000);
      // a server that does not answer the close is not waited for (ws would wait 30 s)
      setTimeout(() => ws.terminate(), 2_000).unref();
    },
  };
  if (opts.size) session.resize(opts.size.width, opts.size.height);
  if (opts.stdin !== undefined) {
    session.write(opts.stdin);
    if (opts.closeStdin !== false) session.closeStdin();
  }
  return session;
}

/** Connects, sends stdin (if any), collects output until the command ends. */
export async function runStream(url: string, opts: StreamOptions = {}): Promise<StreamResult> {
  const session = await openStream(url, opts);
  return session.done;
}
