// Publishes task events to containerd: Events.Forward on containerd's ttrpc socket
// (the TTRPC_ADDRESS containerd gives its shims).
//
// publish() never blocks and never throws for transport trouble: events are encoded
// at once (timestamped at publish time) and queued; one sender forwards them strictly
// in order. While containerd is unreachable the head of the queue is retried with
// backoff, so nothing is lost or reordered across a containerd restart. An event
// containerd rejects outright (a status other than Unavailable / DeadlineExceeded /
// Canceled) is dropped and reported, so one bad event cannot stall the queue.
import { channel } from 'node:diagnostics_channel';
import { encode, EVENTS_SERVICE, packAny, TOPIC_MESSAGE, type TaskEvents, type TaskTopic } from '../proto/index.js';
import { Code, RpcError, TtrpcClient } from '../ttrpc/index.js';
import { NAMESPACE_HEADER } from './task-api.js';

export interface EventPublisherOptions {
  /** containerd's ttrpc address (unix socket path or unix://path). */
  address: string;
  /** Events kept while containerd is unreachable; beyond it the oldest are dropped (default 100000). */
  maxQueue?: number;
  /** Per-attempt timeout of Forward, ms (default 5000). */
  callTimeoutMs?: number;
  /** First retry delay, ms; doubles up to maxRetryDelayMs (defaults 50 and 2000). */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
  /** Told about dropped events and failed attempts. */
  onError?: (err: Error, event: { topic: string; namespace: string }) => void;
}

interface Queued {
  topic: string;
  namespace: string;
  payload: Uint8Array;
}

/** diagnostics_channel `vnode:shim:event`: { topic, namespace, state: 'forwarded' | 'retry' | 'dropped', error? }. */
const diag = channel('vnode:shim:event');

export class EventPublisher {
  private readonly client: TtrpcClient;
  private readonly queue: Queued[] = [];
  private running = false;
  private closed = false;
  private readonly drainWaiters: (() => void)[] = [];
  private wake: (() => void) | undefined;
  private forwardedCount = 0;
  private droppedCount = 0;

  constructor(private readonly opts: EventPublisherOptions) {
    this.client = new TtrpcClient(opts.address, { connectTimeoutMs: 2000 });
  }

  /** Queues one event; returns at once. */
  publish<T extends TaskTopic>(topic: T, namespace: string, event: TaskEvents[T]): void {
    if (this.closed) throw new Error('event publisher closed');
    const messageName = TOPIC_MESSAGE[topic];
    if (!messageName) throw new TypeError(`unknown event topic ${topic}`);
    const payload = encode('containerd.services.events.ttrpc.v1.ForwardRequest', {
      envelope: { timestamp: new Date(), namespace, topic, event: packAny(messageName, event) },
    });
    this.queue.push({ topic, namespace, payload });
    const max = this.opts.maxQueue ?? 100_000;
    while (this.queue.length > max) this.drop(this.queue.shift()!, new Error(`event queue full (${max})`));
    this.kick();
  }

  /** Events not yet accepted by containerd. */
  get pending(): number {
    return this.queue.length;
  }

  get forwarded(): number {
    return this.forwardedCount;
  }

  get dropped(): number {
    return this.droppedCount;
  }

  /** Resolves once every queued event was forwarded (or dropped); false if timeoutMs passed first. */
  flush(timeoutMs = 10_000): Promise<boolean> {
    if (this.queue.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.drainWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  /** Flushes (bounded by timeoutMs) and closes the connection. Unsent events are reported as dropped. */
  async close(timeoutMs = 5000): Promise<void> {
    await this.flush(timeoutMs);
    this.closed = true;
    this.wake?.();
    for (const q of this.queue.splice(0)) this.drop(q, new Error('event publisher closed'));
    this.client.close();
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    void this.run().finally(() => {
      this.running = false;
    });
  }

  private async run(): Promise<void> {
    let delay = this.opts.retryDelayMs ?? 50;
    while (this.queue.length > 0 && !this.closed) {
      const head = this.queue[0]!;
      try {
        await this.client.call(EVENTS_SERVICE, 'Forward', head.payload, {
          timeoutMs: this.opts.callTimeoutMs ?? 5000,
          metadata: [{ key: NAMESPACE_HEADER, value: head.namespace }],
        });
        if (this.queue[0] === head) this.queue.shift();
        this.forwardedCount++;
        delay = this.opts.retryDelayMs ?? 50;
        if (diag.hasSubscribers) diag.publish({ topic: head.topic, namespace: head.namespace, state: 'forwarded' });
      } catch (err) {
        const e = err as Error;
        if (!isRetryable(e)) {
          if (this.queue[0] === head) this.queue.shift();
          this.drop(head, e);
        } else {
          this.opts.onError?.(e, head);
          if (diag.hasSubscribers) diag.publish({ topic: head.topic, namespace: head.namespace, state: 'retry', error: e });
          await this.sleep(delay);
          delay = Math.min(delay * 2, this.opts.maxRetryDelayMs ?? 2000);
        }
      }
      if (this.queue.length === 0) for (const w of this.drainWaiters.splice(0)) w();
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      // Only close() cuts a backoff short; new events wait behind the head.
      this.wake = done;
    });
  }

  private drop(q: Queued, err: Error): void {
    this.droppedCount++;
    this.opts.onError?.(err, q);
    if (diag.hasSubscribers) diag.publish({ topic: q.topic, namespace: q.namespace, state: 'dropped', error: err });
    if (this.queue.length === 0) for (const w of this.drainWaiters.splice(0)) w();
  }
}

function isRetryable(err: Error): boolean {
  if (!(err instanceof RpcError)) return true;
  return err.code === Code.Unavailable || err.code === Code.DeadlineExceeded || err.code === Code.Canceled;
}
