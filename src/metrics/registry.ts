// The manager's Prometheus metrics: counters and histograms fed by the diagnostics
// channels the components publish on, and gauges read when /metrics is scraped.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { seccompNotifications, type SeccompNotification } from '../seccomp/index.js';
import { taskApiCalls, type TaskApiCall } from '../taskapi/index.js';
import { vnodefsRequests, type VnodefsRequest } from '../vnodefs/index.js';

/** What the manager knows at scrape time. */
export interface ManagerSnapshot {
  /** Pods (sandboxes) and tasks without CRI, by vNode name. */
  podsPerVnode: Record<string, number>;
  /** ID ranges left in the node-wide pool. */
  freeIdRanges: number;
}

export interface MetricsRegistry {
  readonly registry: Registry;
  /** Unsubscribes from the channels. */
  close(): void;
}

/** FUSE opcode names for the label (the rest are counted as their number). */
const FUSE_OPS: Record<number, string> = { 1: 'lookup', 3: 'getattr', 4: 'setattr', 14: 'open', 15: 'read', 16: 'write', 18: 'release', 22: 'flush', 27: 'opendir', 28: 'readdir', 29: 'releasedir', 44: 'readdirplus' };

export function managerMetrics(snapshot: () => ManagerSnapshot): MetricsRegistry {
  const registry = new Registry();
  // process_resident_memory_bytes, CPU, heap, event loop lag
  collectDefaultMetrics({ register: registry, prefix: 'vnode_manager_' });
  new Gauge({
    name: 'vnode_vnodes', help: 'vNodes this manager runs', registers: [registry],
    collect() { this.set(Object.keys(snapshot().podsPerVnode).length); },
  });
  new Gauge({
    name: 'vnode_pods', help: 'Pods (and tasks without CRI) per vNode', labelNames: ['vnode'], registers: [registry],
    collect() {
      this.reset();
      for (const [vnode, n] of Object.entries(snapshot().podsPerVnode)) this.set({ vnode }, n);
    },
  });
  new Gauge({
    name: 'vnode_id_ranges_free', help: 'Host ID ranges of 65,536 left in the node-wide pool', registers: [registry],
    collect() { this.set(snapshot().freeIdRanges); },
  });
  const calls = new Counter({ name: 'vnode_task_api_calls_total', help: 'Task API calls by verb and result code ("OK" or the error code)', labelNames: ['verb', 'code'], registers: [registry] });
  const callSeconds = new Histogram({
    name: 'vnode_task_api_call_seconds', help: 'Task API call latency by verb', labelNames: ['verb'], registers: [registry],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
  });
  const fuse = new Counter({ name: 'vnode_vnodefs_requests_total', help: 'FUSE requests vnodefs answered, by operation and result (ok or the errno)', labelNames: ['op', 'result'], registers: [registry] });
  const fuseSeconds = new Histogram({
    name: 'vnode_vnodefs_request_seconds', help: 'vnodefs request latency (in the manager, from the read of /dev/fuse to the reply)', labelNames: ['op'], registers: [registry],
    buckets: [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.005, 0.025],
  });
  const seccomp = new Counter({ name: 'vnode_seccomp_notifications_total', help: 'seccomp notifications the supervisor answered, by syscall', labelNames: ['syscall'], registers: [registry] });

  const onCall = (m: unknown) => {
    const c = m as TaskApiCall;
    calls.inc({ verb: c.verb, code: c.code || 'OK' });
    callSeconds.observe({ verb: c.verb }, c.seconds);
  };
  const onFuse = (m: unknown) => {
    const r = m as VnodefsRequest;
    const op = FUSE_OPS[r.opcode] ?? String(r.opcode);
    fuse.inc({ op, result: r.errno === 0 ? 'ok' : String(r.errno) });
    fuseSeconds.observe({ op }, r.seconds);
  };
  const onSeccomp = (m: unknown) => seccomp.inc({ syscall: (m as SeccompNotification).syscall });
  taskApiCalls.subscribe(onCall);
  vnodefsRequests.subscribe(onFuse);
  seccompNotifications.subscribe(onSeccomp);
  return {
    registry,
    close() {
      taskApiCalls.unsubscribe(onCall);
      vnodefsRequests.unsubscribe(onFuse);
      seccompNotifications.unsubscribe(onSeccomp);
    },
  };
}
