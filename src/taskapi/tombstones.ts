// What a deleted task left for `containerd-shim-vnode-v2 delete`. containerd closes its
// connection to a task once it has deleted it, and a closed connection makes it run the
// shim's `delete` (its cleanup after a dead shim) and publish the exit it prints. The
// manager leaves the encoded DeleteResponse at <instance>/deleted/<namespace>/<id>; the
// shim's C front prints it and removes it, without starting Node.js (native/shim-start.c
// reads the same path). A new task of the same id removes a stale one.
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Names the C front accepts as one path component (containerd's ids and namespaces fit). */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
/** Tombstones nobody asked for (containerd skips the cleanup when it is stopping) go after this. */
const KEEP_MS = 10 * 60_000;

export class Tombstones {
  constructor(readonly dir: string) {}

  pathOf(namespace: string, id: string): string | undefined {
    return NAME.test(namespace) && NAME.test(id) ? join(this.dir, namespace, id) : undefined;
  }

  write(namespace: string, id: string, response: Uint8Array, now = Date.now()): void {
    const path = this.pathOf(namespace, id);
    if (!path) return;
    const dir = join(this.dir, namespace);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.sweep(dir, now);
    writeFileSync(`${path}.tmp`, response);
    renameSync(`${path}.tmp`, path); // the C front never reads half a response
  }

  /** The response left for a task, removed as it is taken; undefined if there is none. */
  take(namespace: string, id: string): Buffer | undefined {
    const path = this.pathOf(namespace, id);
    if (!path) return undefined;
    try {
      const bytes = readFileSync(path);
      rmSync(path, { force: true });
      return bytes;
    } catch {
      return undefined;
    }
  }

  clear(namespace: string, id: string): void {
    const path = this.pathOf(namespace, id);
    if (path) rmSync(path, { force: true });
  }

  private sweep(dir: string, now: number): void {
    for (const name of readdirSync(dir)) {
      try {
        if (now - statSync(join(dir, name)).mtimeMs > KEEP_MS) rmSync(join(dir, name), { force: true });
      } catch {
        /* taken meanwhile */
      }
    }
  }
}
