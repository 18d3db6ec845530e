// /metrics and /healthz of the manager (src/metrics): what the manager knows at scrape
// time (vNodes, pods per vNode, free ID ranges) and whether it serves. See
// src/metrics/server.ts for the address (VNODE_METRICS_ADDRESS; default a socket in the
// instance directory; "off" serves nothing).
import { join } from 'node:path';
import type { Logger } from '../log/index.js';
import { managerMetrics, serveMetrics, type ManagerSnapshot } from '../metrics/index.js';
import type { InstancePaths } from './paths.js';
import type { ProcView } from './proc-view.js';
import type { TaskService } from './service.js';

export interface ObservabilityOptions {
  env: NodeJS.ProcessEnv;
  paths: InstancePaths;
  service: TaskService;
  procView?: ProcView;
  enabledVnodefs: boolean;
  logger: Logger;
}

export function metricsAddress(env: NodeJS.ProcessEnv, paths: InstancePaths): string | undefined {
  const a = env.VNODE_METRICS_ADDRESS ?? join(paths.dir, 'metrics.sock');
  return a === 'off' ? undefined : a;
}

/** Pods are sandboxes (and tasks without CRI); their containers are not counted again. */
export function snapshotOf(service: TaskService): ManagerSnapshot {
  const podsPerVnode: Record<string, number> = {};
  for (const v of service.vnodes.list()) podsPerVnode[v.name] = 0;
  for (const t of service.store.all()) if (t.kind !== 'container') podsPerVnode[t.vnode] = (podsPerVnode[t.vnode] ?? 0) + 1;
  return { podsPerVnode, freeIdRanges: service.vnodes.freeIdRanges() };
}

export async function startObservability(o: ObservabilityOptions): Promise<{ close(): Promise<void> } | undefined> {
  const address = metricsAddress(o.env, o.paths);
  if (!address) return undefined;
  const metrics = managerMetrics(() => snapshotOf(o.service));
  try {
    const served = await serveMetrics({
      address,
      registry: metrics.registry,
      health: () => {
        const vnodefs = o.procView ? 'mounted' : o.enabledVnodefs ? 'unavailable' : 'off';
        return { ok: vnodefs !== 'unavailable', tasks: o.service.store.all().length, vnodes: o.service.vnodes.list().length, vnodefs };
      },
    });
    o.logger.info({ component: 'metrics' }, `metrics and health on ${address} (/metrics, /healthz)`);
    return { close: async () => { metrics.close(); await served.close(); } };
  } catch (e) {
    // Observability must never keep the Task API from being served.
    metrics.close();
    o.logger.warn({ component: 'metrics', err: e }, `metrics unavailable on ${address}: ${(e as Error).message}`);
    return undefined;
  }
}
