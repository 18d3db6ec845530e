// Read latency of /proc/meminfo, /proc/cpuinfo and /proc/stat through vnodefs and
// through LXCFS, side by side in one run: 1 reader and 50 concurrent readers, plus
// the CPU time each server used. Needs root, /dev/fuse, cgroup v1 or v2, lxcfs and cc.
//
//   node --import tsx bench/vnodefs-read.ts [--reads N] [--waiters N] [--cache-ms N] [--spin-us N]
//
// Readers are small C programs (compiled here from the source below) so the client
// adds as little as possible: open, read to EOF, close, timed with CLOCK_MONOTONIC.
// They run in a cgroup with a 256 MiB limit, so both servers do their real work.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const READER_C = `
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
int main(int argc, char **argv) {
  if (argc != 4) return 2;
  const char *path = argv[1];
  int n = atoi(argv[2]), warm = atoi(argv[3]);
  static char buf[1 << 16];
  long long *lat = malloc(sizeof(long long) * n);
  char go;
  if (read(0, &go, 1) != 1) return 3; /* start barrier */
  for (int i = -warm; i < n; i++) {
    struct timespec a, b;
    clock_gettime(CLOCK_MONOTONIC, &a);
    int fd = open(path, O_RDONLY);
    if (fd < 0) { perror(path); return 1; }
    ssize_t r;
    while ((r = read(fd, buf, sizeof buf)) > 0) {}
    if (r < 0) { perror(path); return 1; }
    close(fd);
    clock_gettime(CLOCK_MONOTONIC, &b);
    if (i >= 0) lat[i] = (b.tv_sec - a.tv_sec) * 1000000000LL + (b.tv_nsec - a.tv_nsec);
  }
  fwrite(lat, sizeof(long long), n, stdout);
  return 0;
}
`;

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};

if (args[0] === '--serve') {
  // Child mode: serve vnodefs until stdin closes.
  const { VnodeFs } = await import('../src/vnodefs/index.js');
  const { setReadCacheTtl } = await import('../src/cgroup/index.js');
  if (args[2] !== undefined) setReadCacheTtl(Number(args[2]));
  const fs = await VnodeFs.mount(JSON.parse(args[1]!) as Parameters<typeof VnodeFs.mount>[0]);
  process.stdout.write('ready\n');
  process.stdin.resume();
  process.stdin.on('end', () => void fs.close().then(() => process.exit(0)));
} else {
  await main();
}

interface Row {
  file: string;
  readers: number;
  server: string;
  p50: number;
  p99: number;
  cpuMs: number;
  wallMs: number;
  reads: number;
}

function cpuTicks(pid: number): number {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100/s)
}

function percentile(sorted: BigInt64Array, p: number): number {
  return Number(sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))]!) / 1000;
}

async function runReaders(reader: string, path: string, readers: number, reads: number, procs: string[]): Promise<BigInt64Array> {
  const children: { c: ChildProcess; out: Buffer[] }[] = [];
  for (let i = 0; i < readers; i++) {
    const c = spawn('sh', ['-c', `${procs.map((p) => `echo $$ > ${p}`).join('; ')}; exec ${reader} ${path} ${reads} ${Math.min(50, reads)}`], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    const out: Buffer[] = [];
    c.stdout!.on('data', (d: Buffer) => out.push(d));
    children.push({ c, out });
  }
  await new Promise((r) => setTimeout(r, 200 + readers * 5)); // let every reader reach the barrier
  for (const { c } of children) c.stdin!.end('g');
  await Promise.all(children.map(({ c }) => new Promise((r) => c.on('close', r)))); // close: stdout fully read
  const all = new BigInt64Array(readers * reads);
  let at = 0;
  for (const { c, out } of children) {
    if (c.exitCode !== 0) throw new Error(`reader failed on ${path}`);
    const b = Buffer.concat(out);
    for (let i = 0; i + 8 <= b.length; i += 8) all[at++] = b.readBigInt64LE(i);
  }
  return all.subarray(0, at).sort();
}

async function main(): Promise<void> {
  const reads = opt('--reads', 2000);
  const waiters = opt('--waiters', 1);
  const cacheMs = opt('--cache-ms', 100);
  const spinUs = opt('--spin-us', 50); // the server's default
  const work = mkdtempSync(join(tmpdir(), 'vnodefs-bench-'));
  const reader = join(work, 'reader');
  writeFileSync(join(work, 'reader.c'), READER_C);
  execFileSync('cc', ['-O2', '-o', reader, join(work, 'reader.c')]);

  // A cgroup (v1 memory + cpuacct, or v2) for the readers, with a 256 MiB limit.
  const v1 = existsSync('/sys/fs/cgroup/memory/memory.limit_in_bytes');
  const name = `vnode-test-bench-${process.pid}`;
  const dirs: string[] = [];
  let cgroup: unknown;
  if (v1) {
    const paths: Record<string, string> = {};
    for (const c of ['memory', 'cpu', 'cpuacct', 'cpuset', 'pids', 'blkio']) {
      const d = `/sys/fs/cgroup/${c}/${name}`;
      mkdirSync(d);
      dirs.push(d);
      paths[c] = d;
    }
    writeFileSync(join(paths.cpuset!, 'cpuset.cpus'), readFileSync('/sys/fs/cgroup/cpuset/cpuset.cpus'));
    writeFileSync(join(paths.cpuset!, 'cpuset.mems'), readFileSync('/sys/fs/cgroup/cpuset/cpuset.mems'));
    writeFileSync(join(paths.memory!, 'memory.limit_in_bytes'), String(256 * 1024 * 1024));
    cgroup = { version: 1, paths };
  } else {
    const d = `/sys/fs/cgroup/${name}`;
    mkdirSync(d);
    dirs.push(d);
    writeFileSync(join(d, 'memory.max'), String(256 * 1024 * 1024));
    cgroup = { version: 2, path: d };
  }
  const procs = dirs.map((d) => join(d, 'cgroup.procs'));

  const vfsMp = join(work, 'vnodefs');
  const lxMp = join(work, 'lxcfs');
  mkdirSync(lxMp);
  const servers: { name: string; pid: number; base: string; stop: () => Promise<void> }[] = [];
  try {
    const self = fileURLToPath(import.meta.url);
    // VNODE_BENCH_SERVER_NODE_ARGS: extra node flags for the server (e.g. --cpu-prof).
    const extra = (process.env.VNODE_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean);
    // The manager's own V8 flags, so the server's GC behaves as it does in the manager.
    const { MANAGER_NODE_FLAGS } = await import('../src/shim/start.js');
    const vfs = spawn(process.execPath, [...MANAGER_NODE_FLAGS, ...extra, '--import', 'tsx', self, '--serve', JSON.stringify({ mountpoint: vfsMp, waiters, spinUs, holder: false, vnodes: { bench: { cgroup, startedAt: Date.now() } } }), String(cacheMs)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    await new Promise<void>((resolve, reject) => {
      vfs.stdout!.once('data', () => resolve());
      vfs.once('exit', () => reject(new Error('vnodefs server exited')));
    });
    servers.push({
      name: 'vnodefs',
      pid: vfs.pid!,
      base: join(vfsMp, 'bench'),
      stop: () => new Promise((r) => (vfs.once('exit', r), vfs.stdin!.end())),
    });
    const lx = spawn('lxcfs', ['-f', '-p', join(work, 'lxcfs.pid'), lxMp], { stdio: ['ignore', 'ignore', 'inherit'] });
    const t0 = Date.now();
    while (!existsSync(join(lxMp, 'proc/meminfo'))) {
      if (Date.now() - t0 > 10_000) throw new Error('lxcfs did not come up');
      await new Promise((r) => setTimeout(r, 50));
    }
    servers.push({
      name: 'lxcfs',
      pid: lx.pid!,
      base: lxMp,
      stop: async () => {
        lx.kill('SIGTERM');
        await new Promise((r) => lx.once('exit', r));
        execFileSync('umount', ['-l', lxMp], { stdio: 'ignore' });
      },
    });

    // Warm-up: JIT of the generators, caches of both servers.
    for (const file of ['meminfo', 'cpuinfo', 'stat']) for (const s of servers) await runReaders(reader, join(s.base, 'proc', file), 1, 500, procs);
    const rows: Row[] = [];
    for (const file of ['meminfo', 'cpuinfo', 'stat']) {
      for (const readers of [1, 50]) {
        const perReader = readers === 1 ? reads : Math.max(50, Math.floor(reads / 10));
        for (const s of servers) {
          const path = join(s.base, 'proc', file);
          const c0 = cpuTicks(s.pid);
          const w0 = process.hrtime.bigint();
          const lat = await runReaders(reader, path, readers, perReader, procs);
          const wallMs = Number(process.hrtime.bigint() - w0) / 1e6;
          rows.push({ file, readers, server: s.name, p50: percentile(lat, 50), p99: percentile(lat, 99), cpuMs: (cpuTicks(s.pid) - c0) * 10, wallMs, reads: lat.length });
        }
      }
    }
    printTable(rows, `waiters=${waiters}, read cache ${cacheMs} ms, spin ${spinUs} µs`);
  } finally {
    for (const s of servers.reverse()) await s.stop().catch(() => undefined);
    for (const d of dirs) rmdirSync(d);
    rmSync(work, { recursive: true, force: true });
  }
}

function printTable(rows: Row[], config: string): void {
  console.log(`vnodefs (${config}) vs lxcfs ${execFileSync('sh', ['-c', 'lxcfs --version 2>&1']).toString().trim()} — latency in µs per open+read+close`);
  console.log('file     readers | vnodefs p50   p99  cpu ms | lxcfs p50   p99  cpu ms | p50 ratio p99 ratio | reads');
  for (let i = 0; i < rows.length; i += 2) {
    const v = rows[i]!;
    const l = rows[i + 1]!;
    const f = (n: number, w = 6): string => n.toFixed(1).padStart(w);
    console.log(
      `${v.file.padEnd(8)} ${String(v.readers).padStart(7)} | ${f(v.p50, 11)} ${f(v.p99)} ${f(v.cpuMs, 7)} | ${f(l.p50, 9)} ${f(l.p99)} ${f(l.cpuMs, 7)} | ${(v.p50 / l.p50).toFixed(2).padStart(9)} ${(v.p99 / l.p99).toFixed(2).padStart(9)} | ${v.reads}`,
    );
  }
  const busiest = rows.filter((r) => r.server === 'vnodefs' && r.readers === 50).map((r) => r.cpuMs / r.wallMs);
  console.log(`vnodefs CPU with 50 readers: ${busiest.map((x) => `${(x * 100).toFixed(0)}%`).join(', ')} of one core (meminfo, cpuinfo, stat)`);
}
