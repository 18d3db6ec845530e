// Remembers containerd's Task.Wait calls until they are answered. containerd keeps one
// open per container for its whole life and learns of the exit only through it; if
// the manager dies, a new one replays the journaled calls on the connections it takes
// back from vnode-hold, and the answers reach the streams containerd still waits on.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RequestJournal, TtrpcConnection } from '../ttrpc/index.js';
import { TASK_SERVICE, TASK_SERVICE_V3 } from '../taskapi/index.js';

/** Wait by either name of the Task service: containerd 2.x calls v3 in shim protocol 3 (src/shim/bootstrap.ts). */
const JOURNALED = new Set([`${TASK_SERVICE}/Wait`, `${TASK_SERVICE_V3}/Wait`]);

export class WaitJournal implements RequestJournal {
  constructor(
    private readonly dir: string,
    /** Stable id of a connection across manager restarts (vnode-hold's id). */
    private readonly idOf: (c: TtrpcConnection) => string | undefined,
  ) {
    mkdirSync(dir, { recursive: true });
  }

  wants(service: string, method: string): boolean {
    return JOURNALED.has(`${service}/${method}`);
  }

  begin(c: TtrpcConnection, streamId: number, request: Uint8Array): void {
    const id = this.idOf(c);
    if (!id) return;
    mkdirSync(join(this.dir, id), { recursive: true });
    writeFileSync(join(this.dir, id, String(streamId)), request);
  }

  end(c: TtrpcConnection, streamId: number): void {
    const id = this.idOf(c);
    if (id) rmSync(join(this.dir, id, String(streamId)), { force: true });
  }

  /** containerd closed the connection: nothing on it will be answered. */
  forget(c: TtrpcConnection): void {
    const id = this.idOf(c);
    if (id) rmSync(join(this.dir, id), { recursive: true, force: true });
  }

  /** Re-serves the calls an earlier manager left unanswered on this (taken back) connection. */
  replay(c: TtrpcConnection): number {
    const id = this.idOf(c);
    if (!id) return 0;
    let streams: string[];
    try {
      streams = readdirSync(join(this.dir, id));
    } catch {
      return 0;
    }
    const ids = streams.map(Number).filter((n) => n > 0).sort((a, b) => a - b);
    for (const streamId of ids) c.replay(streamId, readFileSync(join(this.dir, id, String(streamId))));
    return ids.length;
  }

  /** Drops entries of connections that did not survive (keep: ids of connections taken back). */
  prune(keep: Set<string>): void {
    for (const id of readdirSync(this.dir)) if (!keep.has(id)) rmSync(join(this.dir, id), { recursive: true, force: true });
  }
}
