// Exclusive 65,536-ID ranges for vNodes. A lease is a file named after the range's
// first ID, created with O_EXCL in a directory shared by every manager on the node,
// so two managers (several containerd instances side by side) never hand out the
// same range, and a range stays taken across manager restarts.
import { closeSync, constants, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export const RANGE_SIZE = 65536;

export interface IdRange {
  start: number;
  size: number;
}

export interface Lease {
  range: IdRange;
  owner: string;
}

export class IdPoolExhaustedError extends Error {
  override name = 'IdPoolExhaustedError';
  readonly code = 'VNODE_ID_POOL_EXHAUSTED';
}

export class IdPoolConfigError extends Error {
  override name = 'IdPoolConfigError';
  readonly code = 'VNODE_ID_POOL_CONFIG';
}

/** Parses "FIRST-LAST" (inclusive host IDs); both ends must fall on 65,536 boundaries' terms. */
export function parsePoolSpec(spec: string): { first: number; last: number } {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(spec);
  if (!m) throw new IdPoolConfigError(`VNODE_ID_POOL="${spec}": expected FIRST-LAST, e.g. 1048576-16777215`);
  const first = Number(m[1]);
  const last = Number(m[2]);
  if (first < RANGE_SIZE) throw new IdPoolConfigError(`VNODE_ID_POOL="${spec}": the first ID must be at least ${RANGE_SIZE} (host IDs below it belong to the host)`);
  if (first % RANGE_SIZE !== 0) throw new IdPoolConfigError(`VNODE_ID_POOL="${spec}": the first ID must be a multiple of ${RANGE_SIZE}`);
  if (last > 0xfffffffe || last < first + RANGE_SIZE - 1) {
    throw new IdPoolConfigError(`VNODE_ID_POOL="${spec}": the pool must hold at least one range of ${RANGE_SIZE} IDs and end below 4294967295`);
  }
  return { first, last };
}

export const DEFAULT_POOL = '1048576-268435455';

export class IdPool {
  readonly first: number;
  readonly last: number;

  constructor(
    private readonly dir: string,
    spec: string = DEFAULT_POOL,
  ) {
    ({ first: this.first, last: this.last } = parsePoolSpec(spec));
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  get capacity(): number {
    return Math.floor((this.last - this.first + 1) / RANGE_SIZE);
  }

  /** Takes the lowest free range for `owner` (e.g. "instance/vnode"). */
  allocate(owner: string): IdRange {
    for (let start = this.first; start + RANGE_SIZE - 1 <= this.last; start += RANGE_SIZE) {
      let fd: number;
      try {
        fd = openSync(join(this.dir, String(start)), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw e;
      }
      try {
        writeSync(fd, `${JSON.stringify({ owner, since: new Date().toISOString() })}\n`);
      } finally {
        closeSync(fd);
      }
      return { start, size: RANGE_SIZE };
    }
    throw new IdPoolExhaustedError(
      `no free ID range: all ${this.capacity} ranges of ${RANGE_SIZE} IDs in VNODE_ID_POOL=${this.first}-${this.last} are taken by live vNodes; remove vNodes or widen the pool`,
    );
  }

  /** Gives a range back; only its owner may. Returns false when it was not leased by owner. */
  release(range: IdRange, owner: string): boolean {
    const path = join(this.dir, String(range.start));
    const lease = this.read(path);
    if (!lease || lease.owner !== owner) return false;
    rmSync(path, { force: true });
    return true;
  }

  leases(): Lease[] {
    const out: Lease[] = [];
    for (const name of readdirSync(this.dir)) {
      if (!/^\d+$/.test(name)) continue;
      const lease = this.read(join(this.dir, name));
      if (lease) out.push({ range: { start: Number(name), size: RANGE_SIZE }, owner: lease.owner });
    }
    return out.sort((a, b) => a.range.start - b.range.start);
  }

  private read(path: string): { owner: string } | undefined {
    try {
      return JSON.parse(readFileSync(path, 'utf8')) as { owner: string };
    } catch {
      return undefined;
    }
  }
}
