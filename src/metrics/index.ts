// Public surface of metrics: fed by the diagnostics channels components publish on, the
// manager's Prometheus registry fed by them, and the /metrics + /healthz endpoint.
//
//   taskApiCalls.publish({ verb: 'create', seconds: 0.04, code: '' });   // in src/taskapi
//   const m = managerMetrics(() => ({ podsPerVnode, freeIdRanges }));    // in the manager
//   await serveMetrics({ address, registry: m.registry, health: () => ({ ok: true }) });
export { managerMetrics, type ManagerSnapshot, type MetricsRegistry } from './registry.js';
export { MetricsAddressError, parseListenAddress, serveMetrics, type HealthReport, type ListenTarget, type MetricsServerOptions } from './server.js';
