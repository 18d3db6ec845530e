// What vnodefs reads from a vNode's (or a reader's) cgroup, normalized across v1
// controllers and the v2 unified hierarchy: memory limit/usage/swap/stat, CPU quota,
// cpuset and usage, member threads, pids, IO and PSI. Limits are the tightest of the
// cgroup and its ancestors; a missing file gives "unknown" (undefined or null) so the
// generators fall back to the host's values.
//   v1: memory.limit_in_bytes, memory.usage_in_bytes, memory.memsw.*, memory.stat,
//       cpu.cfs_quota_us / cpu.cfs_period_us, cpuset.effective_cpus, cpuacct.*, pids.current
//   v2: memory.max, memory.current, memory.swap.max / .current, memory.stat, cpu.max,
//       cpu.stat, cpuset.cpus.effective, pids.current, io.stat, <kind>.pressure
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseCpuList, readKeyed, readLimit, readNumber, readText } from './files.js';
import { controllerDir, membersDir, type CgroupLocation, type V1Controller } from './location.js';

/** Contents of `file` in the cgroup directory and its ancestors that carry it, nearest first. */
function chain(dir: string, file: string): string[] {
  return chainDirs(dir, file).map(([, text]) => text);
}

/** Like chain(), with the directory of each. */
function chainDirs(dir: string, file: string): [string, string][] {
  const out: [string, string][] = [];
  let d = dir;
  for (let i = 0; i < 64; i++) {
    const text = readText(join(d, file));
    if (text === undefined) break;
    out.push([d, text]);
    const up = dirname(d);
    if (up === d) break;
    d = up;
  }
  return out;
}

function limitOf(text: string): number | null | undefined {
  const t = text.trim();
  if (t === 'max' || t === '-1') return null;
  const n = Number(t);
  if (!Number.isFinite(n) || t === '') return undefined;
  return n >= 2 ** 62 ? null : n;
}

function minLimit(values: (number | null | undefined)[]): number | null {
  let best: number | null = null;
  for (const v of values) if (typeof v === 'number' && (best === null || v < best)) best = v;
  return best;
}

export interface MemoryFacts {
  /** Effective limit in bytes (tightest of the cgroup and its ancestors), null if none. */
  limit: number | null;
  usage: number;
  /** Swap limit in bytes (null: unlimited), swap in use. */
  swapLimit: number | null;
  swapUsage: number;
  /** memory.stat, with v1's hierarchical total_* values under the v2 names. */
  stat: Map<string, number>;
}

// v1 memory.stat (total_* form) → v2 memory.stat names, so generators see one vocabulary.
const V1_STAT_NAMES: Record<string, string> = {
  total_cache: 'file',
  total_rss: 'anon',
  total_rss_huge: 'anon_thp',
  total_shmem: 'shmem',
  total_mapped_file: 'file_mapped',
  total_dirty: 'file_dirty',
  total_writeback: 'file_writeback',
  total_swap: 'swap',
  total_inactive_anon: 'inactive_anon',
  total_active_anon: 'active_anon',
  total_inactive_file: 'inactive_file',
  total_active_file: 'active_file',
  total_unevictable: 'unevictable',
};

export interface CpuFacts {
  /** CPU quota in CPUs (e.g. 1.5), null if none. */
  quota: number | null;
  /** CPUs of the cpuset (host numbering), null if unknown. */
  cpuset: number[] | null;
  /** Used CPU time in nanoseconds, per host CPU when the cgroup reports it. */
  userNs: number;
  systemNs: number;
  perCpuNs: number[] | null;
}

export interface TaskFacts {
  /** Thread ids of every task in the cgroup subtree (host pid namespace). */
  tids: number[];
}

/** Read access to one vNode's (or one container's) cgroup. */
export class CgroupReader {
  constructor(readonly loc: CgroupLocation) {}

  private dir(ctrl: V1Controller): string | undefined {
    return controllerDir(this.loc, ctrl);
  }

  memory(): MemoryFacts | undefined {
    const d = this.dir('memory');
    if (!d) return undefined;
    if (this.loc.version === 2) {
      const usage = readNumber(join(d, 'memory.current'));
      if (usage === undefined) return undefined;
      const limit = minLimit(chain(d, 'memory.max').map(limitOf));
      const swapLimit = minLimit(chain(d, 'memory.swap.max').map(limitOf));
      const swapUsage = readNumber(join(d, 'memory.swap.current')) ?? 0;
      const noSwapFile = readText(join(d, 'memory.swap.max')) === undefined;
      return { limit, usage, swapLimit: noSwapFile ? 0 : swapLimit, swapUsage, stat: readKeyed(join(d, 'memory.stat')) };
    }
    const usage = readNumber(join(d, 'memory.usage_in_bytes'));
    if (usage === undefined) return undefined;
    const raw = readKeyed(join(d, 'memory.stat'));
    const stat = new Map<string, number>();
    for (const [k, v] of raw) {
      const name = V1_STAT_NAMES[k];
      if (name) stat.set(name, v);
    }
    const hier = raw.get('hierarchical_memory_limit');
    const limit = minLimit([readLimit(join(d, 'memory.limit_in_bytes')), hier !== undefined && hier < 2 ** 62 ? hier : null]);
    const memswLimit = readLimit(join(d, 'memory.memsw.limit_in_bytes'));
    const hierSw = raw.get('hierarchical_memsw_limit');
    const sw = minLimit([memswLimit, hierSw !== undefined && hierSw < 2 ** 62 ? hierSw : null]);
    let swapLimit: number | null;
    if (memswLimit === undefined) swapLimit = 0; // no swap accounting: no swap visible
    else if (sw === null) swapLimit = null;
    else swapLimit = Math.max(0, sw - (limit ?? sw));
    const memswUsage = readNumber(join(d, 'memory.memsw.usage_in_bytes'));
    const swapUsage = memswUsage === undefined ? 0 : Math.max(0, memswUsage - usage);
    return { limit, usage, swapLimit, swapUsage, stat };
  }

  cpu(): CpuFacts {
    let quota: number | null = null;
    let cpuset: number[] | null = null;
    let userNs = 0;
    let systemNs = 0;
    let perCpuNs: number[] | null = null;
    if (this.loc.version === 2) {
      const d = this.loc.path;
      quota = minQuota(
        chain(d, 'cpu.max').map((text) => {
          // "<quota> <period>", quota "max" for none
          const [q, per] = text.trim().split(/\s+/);
          const quota = Number(q);
          const period = Number(per);
          return q === 'max' || !Number.isFinite(quota) || !(period > 0) ? null : quota / period;
        }),
      );
      const eff = readText(join(d, 'cpuset.cpus.effective'));
      if (eff !== undefined) cpuset = parseCpuList(eff);
      const st = readKeyed(join(d, 'cpu.stat'));
      userNs = (st.get('user_usec') ?? 0) * 1000;
      systemNs = (st.get('system_usec') ?? 0) * 1000;
    } else {
      const cpu = this.dir('cpu');
      if (cpu) {
        quota = minQuota(
          chainDirs(cpu, 'cpu.cfs_quota_us').map(([p, text]) => {
            const q = Number(text.trim());
            const per = readNumber(join(p, 'cpu.cfs_period_us'));
            return !Number.isFinite(q) || q < 0 || !per ? null : q / per;
          }),
        );
      }
      const cs = this.dir('cpuset');
      if (cs) {
        const eff = readText(join(cs, 'cpuset.effective_cpus')) ?? readText(join(cs, 'cpuset.cpus'));
        if (eff !== undefined) cpuset = parseCpuList(eff);
      }
      const acct = this.dir('cpuacct');
      if (acct) {
        const u = readText(join(acct, 'cpuacct.usage_percpu_user'));
        const s = readText(join(acct, 'cpuacct.usage_percpu_sys'));
        if (u !== undefined && s !== undefined) {
          const us = u.trim().split(/\s+/).map(Number);
          const ss = s.trim().split(/\s+/).map(Number);
          perCpuNs = us.map((v, i) => v + (ss[i] ?? 0));
          userNs = us.reduce((a, b) => a + b, 0);
          systemNs = ss.reduce((a, b) => a + b, 0);
        } else {
          // cpuacct.stat is in USER_HZ ticks.
          const st = readKeyed(join(acct, 'cpuacct.stat'));
          userNs = (st.get('user') ?? 0) * 1e7;
          systemNs = (st.get('system') ?? 0) * 1e7;
        }
      }
    }
    return { quota, cpuset, userNs, systemNs, perCpuNs };
  }

  /** Every thread id in the cgroup subtree (v1: the pids, else memory, controller). */
  tids(limit = 65536): number[] {
    const d = membersDir(this.loc);
    if (!d) return [];
    const file = this.loc.version === 2 ? 'cgroup.threads' : 'tasks';
    const out: number[] = [];
    const walk = (dir: string, depth: number): void => {
      const t = readText(join(dir, file));
      if (t) for (const l of t.split('\n')) if (l) out.push(Number(l));
      if (depth > 32 || out.length >= limit) return;
      let ents: import('node:fs').Dirent[];
      try {
        ents = readdirSync(dir, { withFileTypes: true });
      } catch {
        return;
      }
      for (const e of ents) if (e.isDirectory()) walk(join(dir, e.name), depth + 1);
    };
    walk(d, 0);
    return out;
  }

  pidsCurrent(): number | undefined {
    const d = this.dir('pids');
    return d ? readNumber(join(d, 'pids.current')) : undefined;
  }

  /** Per device "major:minor" → IO counters. */
  io(): Map<string, IoCounters> {
    const out = new Map<string, IoCounters>();
    const get = (dev: string): IoCounters => {
      let c = out.get(dev);
      if (!c) out.set(dev, (c = { rbytes: 0, wbytes: 0, rios: 0, wios: 0, dbytes: 0, dios: 0 }));
      return c;
    };
    if (this.loc.version === 2) {
      const t = readText(join(this.loc.path, 'io.stat')) ?? '';
      for (const line of t.split('\n')) {
        const [dev, ...kv] = line.trim().split(/\s+/);
        if (!dev || !dev.includes(':')) continue;
        const c = get(dev);
        for (const p of kv) {
          const [k, v] = p.split('=');
          if (k && k in c) c[k as keyof IoCounters] = Number(v) || 0;
        }
      }
      return out;
    }
    const d = this.dir('blkio');
    if (!d) return out;
    const parse = (file: string, r: keyof IoCounters, w: keyof IoCounters, disc: keyof IoCounters): void => {
      const t = readText(join(d, file)) ?? '';
      for (const line of t.split('\n')) {
        const [dev, op, v] = line.trim().split(/\s+/);
        if (!dev || !op || v === undefined || !dev.includes(':')) continue;
        const c = get(dev);
        if (op === 'Read') c[r] = Number(v);
        else if (op === 'Write') c[w] = Number(v);
        else if (op === 'Discard') c[disc] = Number(v);
      }
    };
    parse('blkio.throttle.io_service_bytes_recursive', 'rbytes', 'wbytes', 'dbytes');
    parse('blkio.throttle.io_serviced_recursive', 'rios', 'wios', 'dios');
    return out;
  }

  /** The cgroup's PSI file for "cpu" | "memory" | "io", if the host has per-cgroup PSI (v2 only). */
  pressure(kind: 'cpu' | 'memory' | 'io'): string | undefined {
    if (this.loc.version !== 2) return undefined;
    return readText(join(this.loc.path, `${kind}.pressure`));
  }
}

export interface IoCounters {
  rbytes: number;
  wbytes: number;
  rios: number;
  wios: number;
  dbytes: number;
  dios: number;
}

function minQuota(v: (number | null)[]): number | null {
  return minLimit(v);
}
