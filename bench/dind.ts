// Docker-in-Docker and systemd in a vNode, against the reference on the same machine in the
// same run (docs/benchmarks.md, "Privileged workloads"):
//   - `docker run --rm busybox true` and `docker build` (a RUN step, no cache) with dockerd in a
//     privileged vNode pod (overlay2 on an emptyDir), against the SAME dockerd binary (the image's
//     docker.io, bookworm's) run on the host as host root, in a network and mount namespace of
//     its own so that the host's iptables, links and mounts stay untouched;
//   - systemd's boot to multi-user.target in a vNode pod (systemd-analyze's userspace time, and
//     StartContainer → `is-system-running` as a user sees it).
// Rounds interleave the two sides so that load changes hit both alike.
//
//   node --import tsx bench/dind.ts [--iterations N] [--rounds R] [--containerd 2|1.7] [--json]
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { busyboxImage, DEBIAN_IMAGES, debianImage, INNER_BUSYBOX_ARCHIVE, INNER_BUSYBOX_REF } from '../src/oci/index.js';
import { startContainerd } from '../test/support/containerd.js';
import { criEnv, TestPod, waitFor, type CriEnv } from '../test/support/cri.js';
import { imagesCacheDir } from '../test/support/paths.js';
import { importDebianImage } from '../test/support/workloads.js';
import { containerdVersions, fmtMs, fmtRatio, intFlag, machineInfo, nowMs, parseFlags, progress, round, sleep, summarize, table, type Summary } from './lib.js';

const USAGE = `usage: node --import tsx bench/dind.ts [--iterations N] [--rounds R] [--containerd 2|1.7] [--json]
  --iterations N   docker runs per side per round (default 5; builds: 1 per round)
  --rounds R       interleaved rounds (default 4)
  --containerd V   containerd of the vNode side (default 2)
  --json           results as JSON on stdout
`;

/** Prints one duration in ms per run of `cmd` (date +%s%N around it): measured where docker runs, not through exec. */
const timedLoop = (n: number, cmd: string) =>
  `for i in $(seq ${n}); do s=$(date +%s%N); ${cmd} >/dev/null 2>&1 || echo FAIL; e=$(date +%s%N); echo $(( (e - s) / 1000 )); done`;
const BUILD = `mkdir -p /tmp/bb && printf 'FROM busybox\\nRUN echo built > /built\\n' > /tmp/bb/Dockerfile && docker build --no-cache -q -t bench-build /tmp/bb`;

function parseTimes(out: string, what: string): number[] {
  if (out.includes('FAIL')) throw new Error(`${what}: a run failed\n${out}`);
  return out.trim().split('\n').filter(Boolean).map((l) => Number(l) / 1000);
}

/**
 * The host's dockerd (Debian's docker.io, the version the image has), as host root, in a
 * network and mount namespace of its own: its bridge, iptables rules and mounts never touch
 * the host's, and go with it.
 */
class HostDockerd {
  readonly root = mkdtempSync('/var/tmp/vnode-bench-dockerd-');
  private readonly sock = join(this.root, 'docker.sock');
  private proc?: ChildProcess;

  async start(): Promise<void> {
    if (!existsSync('/usr/sbin/dockerd')) {
      throw new Error('the reference needs the host\'s dockerd: apt-get install docker.io (bench only; stop its service if it starts one)');
    }
    // unshare, not `ip netns exec`: that remounts /sys, and dockerd would find no cgroups
    const args = ['--net', '--mount', '--propagation', 'private', 'dockerd',
      `--host=unix://${this.sock}`, `--data-root=${join(this.root, 'lib')}`, `--exec-root=${join(this.root, 'exec')}`,
      `--pidfile=${join(this.root, 'docker.pid')}`, '--cgroup-parent=/vnode-bench-docker', '--log-level=warn'];
    this.proc = spawn('unshare', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    this.proc.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    await waitFor('host dockerd answers', () => {
      if (this.proc!.exitCode !== null) throw new Error(`host dockerd exited: ${err}`);
      return this.sh('docker version >/dev/null 2>&1 && echo up').trim() === 'up';
    }, 60_000, 300);
  }

  /** Loads the busybox archive the image carries (the same cached file). */
  loadBusybox(): void {
    const archive = busyboxImage(join(imagesCacheDir, 'inner'), INNER_BUSYBOX_REF).path;
    const out = this.sh(`docker load -q -i ${archive}`);
    if (!out.includes('Loaded image')) throw new Error(`host docker load: ${out}`);
  }

  sh(script: string): string {
    // the CLI only talks to the socket: it runs on the host
    const r = spawnSync('sh', ['-c', script], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, env: { ...process.env, DOCKER_HOST: `unix://${this.sock}` } });
    return r.stdout + (r.status === 0 ? '' : r.stderr);
  }

  async stop(): Promise<void> {
    if (this.proc && this.proc.exitCode === null) {
      this.proc.kill('SIGTERM');
      for (let i = 0; i < 150 && this.proc.exitCode === null; i++) await sleep(100);
      if (this.proc.exitCode === null) this.proc.kill('SIGKILL');
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

async function vnodeSh(env: CriEnv, cid: string, script: string): Promise<string> {
  const r = await env.cri.execSync(cid, ['sh', '-c', script], 600);
  return r.stdout.toString() + (r.exit_code === 0 ? '' : r.stderr.toString());
}

async function systemdBoot(env: CriEnv, image: string, n: number): Promise<{ userspaceMs: number[]; untilRunningMs: number[] }> {
  const userspaceMs: number[] = [];
  const untilRunningMs: number[] = [];
  for (let i = 0; i < n; i++) {
    const pod = await TestPod.run(env, { namespace: 'bench-systemd', privileged: true });
    try {
      const cid = await pod.createContainer({ name: 'init', image, command: ['/sbin/init'], privileged: true, env: { container: 'vnode' } });
      const t0 = nowMs();
      await env.cri.startContainer(cid);
      await waitFor('systemd running', async () => {
        const r = await env.cri.execSync(cid, ['systemctl', 'is-system-running'], 10).catch(() => undefined);
        return r && /^(running|degraded)/.test(r.stdout.toString());
      }, 120_000, 50);
      untilRunningMs.push(nowMs() - t0);
      const a = (await env.cri.execSync(cid, ['systemd-analyze', 'time'], 10)).stdout.toString();
      const m = /([\d.]+)(ms|s) \(userspace\)/.exec(a);
      if (m) userspaceMs.push(Number(m[1]) * (m[2] === 's' ? 1000 : 1));
    } finally {
      await pod.remove();
    }
  }
  return { userspaceMs, untilRunningMs };
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { values: ['iterations', 'rounds', 'containerd'], booleans: ['json'] }, USAGE);
  const n = intFlag(flags, 'iterations', 5, 1);
  const rounds = intFlag(flags, 'rounds', 4, 1);
  const version = containerdVersions(flags)[0]!;
  const dockerImg = await debianImage('docker', { cacheDir: imagesCacheDir, progress });
  const host = new HostDockerd();
  const ctd = await startContainerd({ version });
  const env = criEnv(ctd, 'vnode');
  const lib = mkdtempSync('/var/tmp/vnode-bench-dind-lib-');
  chmodSync(lib, 0o777);
  const run = { host: [] as number[], vnode: [] as number[] };
  const build = { host: [] as number[], vnode: [] as number[] };
  let boot: { userspaceMs: number[]; untilRunningMs: number[] } = { userspaceMs: [], untilRunningMs: [] };
  try {
    await host.start();
    host.loadBusybox();
    const image = await importDebianImage(ctd.ctr, 'docker');
    const pod = await TestPod.run(env, { namespace: 'bench-dind', privileged: true });
    const cid = await pod.runContainer({ name: 'dockerd', image, privileged: true, command: ['dockerd', '--log-level=warn'], mounts: [{ container_path: '/var/lib/docker', host_path: lib } as never] });
    await waitFor('dockerd in the vNode answers', async () => (await vnodeSh(env, cid, 'docker version >/dev/null 2>&1 && echo up')).trim() === 'up', 60_000, 300);
    await vnodeSh(env, cid, `docker load -q -i ${INNER_BUSYBOX_ARCHIVE}`);
    // one warm-up run each (first run pulls the layer into the snapshotter caches)
    host.sh(timedLoop(1, 'docker run --rm busybox true'));
    await vnodeSh(env, cid, timedLoop(1, 'docker run --rm busybox true'));
    for (let r = 0; r < rounds; r++) {
      run.host.push(...parseTimes(host.sh(timedLoop(n, 'docker run --rm busybox true')), 'host docker run'));
      run.vnode.push(...parseTimes(await vnodeSh(env, cid, timedLoop(n, 'docker run --rm busybox true')), 'vNode docker run'));
      build.host.push(...parseTimes(host.sh(timedLoop(1, BUILD)), 'host docker build'));
      build.vnode.push(...parseTimes(await vnodeSh(env, cid, timedLoop(1, BUILD)), 'vNode docker build'));
      progress(`round ${r + 1}/${rounds}: docker run p50 host ${fmtMs(summarize(run.host).p50)} ms, vNode ${fmtMs(summarize(run.vnode).p50)} ms`);
    }
    await pod.remove();
    const sysImage = await importDebianImage(ctd.ctr, 'systemd');
    boot = await systemdBoot(env, sysImage, 3);
  } finally {
    await host.stop();
    await ctd.stop();
    rmSync(lib, { recursive: true, force: true });
  }
  const s = { runHost: summarize(run.host), runVnode: summarize(run.vnode), buildHost: summarize(build.host), buildVnode: summarize(build.vnode) };
  const boots = { userspace: summarize(boot.userspaceMs), untilRunning: summarize(boot.untilRunningMs) };
  const ratio = (a: Summary, b: Summary) => a.p50 / b.p50;
  const result = {
    machine: machineInfo(), containerd: ctd.version, dockerImage: DEBIAN_IMAGES.docker.ref,
    dockerRun: { host: s.runHost, vnode: s.runVnode, ratioP50: round(ratio(s.runVnode, s.runHost), 2) },
    dockerBuild: { host: s.buildHost, vnode: s.buildVnode, ratioP50: round(ratio(s.buildVnode, s.buildHost), 2) },
    systemdBoot: boots,
  };
  if (flags.bools.has('json')) {
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
    return;
  }
  process.stdout.write(table(['', 'host dockerd p50', 'p90', 'vNode dockerd p50', 'p90', 'vNode / host (p50)'], [
    ['docker run --rm busybox true (ms)', fmtMs(s.runHost.p50), fmtMs(s.runHost.p90), fmtMs(s.runVnode.p50), fmtMs(s.runVnode.p90), fmtRatio(ratio(s.runVnode, s.runHost))],
    ['docker build, a RUN step, no cache (ms)', fmtMs(s.buildHost.p50), fmtMs(s.buildHost.p90), fmtMs(s.buildVnode.p50), fmtMs(s.buildVnode.p90), fmtRatio(ratio(s.buildVnode, s.buildHost))],
  ]) + '\n');
  process.stdout.write(`systemd boot in a vNode pod (${boot.untilRunningMs.length} boots): userspace (systemd-analyze) p50 ${fmtMs(boots.userspace.p50)} ms; StartContainer → is-system-running p50 ${fmtMs(boots.untilRunning.p50)} ms\n`);
  process.stdout.write(`containerd ${ctd.version}; ${n * rounds} docker runs and ${rounds} builds per side, interleaved\n`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exit(1);
});
