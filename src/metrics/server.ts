// The manager's HTTP endpoint: GET /metrics (Prometheus text format) and GET /healthz.
// The address is a unix socket in the manager's instance directory unless
// VNODE_METRICS_ADDRESS names another (host:port or a path): several managers (one per
// containerd instance) run side by side, and a fixed TCP port would make them collide;
// a socket owned by root is also not reachable from pods. The node service that
// `vnode install --service` writes sets 127.0.0.1:9465 for the DaemonSet's probes.
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

export interface HealthReport {
  ok: boolean;
  [detail: string]: unknown;
}

export interface MetricsServerOptions {
  /** "host:port", "[v6]:port" or a unix socket path. */
  address: string;
  registry: Registry;
  health: () => HealthReport;
}

export class MetricsAddressError extends Error {
  override name = 'MetricsAddressError';
  readonly code = 'VNODE_METRICS_ADDRESS';
}

export type ListenTarget = { path: string } | { host: string; port: number };

/** Parses VNODE_METRICS_ADDRESS: a path (starts with / or .) or host:port. */
export function parseListenAddress(address: string): ListenTarget {
  if (address.startsWith('/') || address.startsWith('.')) return { path: address };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\s]+)):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port > 0 && port < 65536)) {
    throw new MetricsAddressError(`metrics address "${address}" is neither a socket path nor host:port (e.g. 127.0.0.1:9465); fix VNODE_METRICS_ADDRESS`);
  }
  return { host: m[1] ?? m[2]!, port };
}

export async function serveMetrics(o: MetricsServerOptions): Promise<{ server: Server; close(): Promise<void> }> {
  const target = parseListenAddress(o.address);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
    } else if (path === '/metrics') {
      o.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': o.registry.contentType }).end(text),
        (e: Error) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${e.message}\n`),
      );
    } else if (path === '/healthz') {
      const h = o.health();
      res.writeHead(h.ok ? 200 : 503, { 'content-type': 'application/json' }).end(`${JSON.stringify(h)}\n`);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics or /healthz\n');
    }
  });
  if ('path' in target) rmSync(target.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if ('path' in target) server.listen(target.path, resolve);
    else server.listen(target.port, target.host, resolve);
  });
  if ('path' in target) chmodSync(target.path, 0o600);
  server.unref();
  return {
    server,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
