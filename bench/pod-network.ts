// Pod ↔ pod networking, vnode vs runc, on one private containerd and one CNI bridge:
// TCP throughput (iperf3, 3 s per run) and round-trip latency (TCP: iperf3's smoothed RTT
// of a lightly loaded connection, 64-byte writes at 200 kbit/s; ICMP: ping), between two
// runc pods and between two vnode pods in different vNodes (Kubernetes namespaces).
// Runs interleave runc and vnode so that drift of this shared machine hits both alike.
// Traffic stays on the test bridge. Not a test: it never asserts, it reports.
//
//   node --import tsx bench/pod-network.ts [--iterations N] [--containerd 2|1.7|2,1.7|all] [--json]
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { startContainerd, type ContainerdInstance, type ContainerdVersion } from '../test/support/containerd.js';
import { criEnv, TestPod, type CriEnv } from '../test/support/cri.js';
import { importNetToolsImage, NETTOOLS_IMAGE } from '../test/support/images.js';
import { containerdVersions, fmtRatio, intFlag, machineInfo, median, parseFlags, progress, removeManagerDirs, round, table } from './lib.js';

const USAGE = `usage: node --import tsx bench/pod-network.ts [--iterations N] [--containerd 2|1.7|2,1.7|all] [--json] [--json-file F]
  --iterations N   measured runs per handler and metric (default 5, at most 50)
  --containerd V   containerd version(s) (default 2)
`;

type Handler = 'runc' | 'vnode';
interface Pair { server: TestPod; client: TestPod; serverCid: string; clientCid: string; serverIp: string }
interface Run { gbps: number; tcpRttUs: number; pingMs: number }

async function sh(env: CriEnv, cid: string, script: string, timeoutSec = 30): Promise<string> {
  const r = await env.cri.execSync(cid, ['sh', '-c', script], timeoutSec);
  if (r.exit_code !== 0) throw new Error(`${script}: exit ${r.exit_code}: ${r.stderr.toString()}${r.stdout.toString()}`);
  return r.stdout.toString();
}

async function pair(env: CriEnv, handler: Handler): Promise<Pair> {
  const server = await TestPod.run(env, { namespace: `bench-${handler}-srv` });
  const client = await TestPod.run(env, { namespace: `bench-${handler}-cli` });
  const serverCid = await server.runContainer({ name: 's', image: NETTOOLS_IMAGE, command: ['iperf3', '-s'] });
  const clientCid = await client.runContainer({ name: 'c', image: NETTOOLS_IMAGE, command: ['sleep', '3600'] });
  await server.waitForState(serverCid, 'CONTAINER_RUNNING');
  await client.waitForState(clientCid, 'CONTAINER_RUNNING');
  const st = (await env.cri.podSandboxStatus(server.id)) as { status?: { network?: { ip?: string } } };
  const serverIp = st.status?.network?.ip ?? '';
  if (!serverIp) throw new Error(`${handler}: the server pod has no IP`);
  return { server, client, serverCid, clientCid, serverIp };
}

interface IperfEnd { end: { sum_received?: { bits_per_second: number }; streams?: { sender?: { mean_rtt?: number } }[] } }

async function iperf(env: CriEnv, p: Pair, args: string): Promise<IperfEnd> {
  for (let attempt = 0; ; attempt++) {
    try {
      return JSON.parse(await sh(env, p.clientCid, `iperf3 -J -c ${p.serverIp} ${args}`, 30)) as IperfEnd;
    } catch (e) {
      // the server takes one test at a time and may still be starting
      if (attempt >= 20) throw e;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

async function measure(env: CriEnv, p: Pair): Promise<Run> {
  const bulk = await iperf(env, p, '-t 3');
  const light = await iperf(env, p, '-t 2 -b 200K -l 64');
  const ping = await sh(env, p.clientCid, `ping -c 50 -i 0.02 -q ${p.serverIp}`);
  const avg = /= [\d.]+\/([\d.]+)\//.exec(ping)?.[1];
  return {
    gbps: (bulk.end.sum_received?.bits_per_second ?? NaN) / 1e9,
    tcpRttUs: light.end.streams?.[0]?.sender?.mean_rtt ?? NaN,
    pingMs: avg ? Number(avg) : NaN,
  };
}

interface VersionResult { containerd: ContainerdVersion; containerdVersion: string; runs: Record<Handler, Run[]>; median: Record<Handler, Run>; ratio: Run }

async function benchVersion(version: ContainerdVersion, iterations: number): Promise<VersionResult> {
  progress(`containerd ${version}: starting`);
  let ctd: ContainerdInstance | undefined;
  try {
    ctd = await startContainerd({ version });
    await importNetToolsImage(ctd.ctr);
    const envs: Record<Handler, CriEnv> = { runc: criEnv(ctd, 'runc'), vnode: criEnv(ctd, 'vnode') };
    const pairs: Record<Handler, Pair> = { runc: await pair(envs.runc, 'runc'), vnode: await pair(envs.vnode, 'vnode') };
    const runs: Record<Handler, Run[]> = { runc: [], vnode: [] };
    for (let i = 0; i < iterations; i++) {
      for (const h of ['runc', 'vnode'] as const) {
        const r = await measure(envs[h], pairs[h]);
        runs[h].push(r);
        progress(`containerd ${version} run ${i + 1}/${iterations} ${h}: ${round(r.gbps, 2)} Gbit/s, TCP RTT ${r.tcpRttUs} µs, ping ${r.pingMs} ms`);
      }
    }
    const med = (h: Handler): Run => ({ gbps: median(runs[h].map((r) => r.gbps)), tcpRttUs: median(runs[h].map((r) => r.tcpRttUs)), pingMs: median(runs[h].map((r) => r.pingMs)) });
    const m = { runc: med('runc'), vnode: med('vnode') };
    for (const h of ['runc', 'vnode'] as const) {
      await pairs[h].client.remove();
      await pairs[h].server.remove();
    }
    return {
      containerd: version,
      containerdVersion: ctd.fullVersion,
      runs,
      median: m,
      ratio: { gbps: m.vnode.gbps / m.runc.gbps, tcpRttUs: m.vnode.tcpRttUs / m.runc.tcpRttUs, pingMs: m.vnode.pingMs / m.runc.pingMs },
    };
  } finally {
    const address = ctd?.address;
    await ctd?.stop();
    if (address) await removeManagerDirs(address);
  }
}

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2), { values: ['iterations', 'containerd', 'json-file'], booleans: ['json'] }, USAGE);
  const iterations = Math.min(50, intFlag(f, 'iterations', 5, 1));
  const results: VersionResult[] = [];
  for (const v of containerdVersions(f)) results.push(await benchVersion(v, iterations));
  const out = { machine: machineInfo(), iterations, results };
  const jsonFile = f.values.get('json-file');
  if (jsonFile) writeFileSync(resolve(jsonFile), JSON.stringify(out, null, 2));
  if (f.bools.has('json')) {
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
    return;
  }
  for (const r of results) {
    process.stdout.write(`\ncontainerd ${r.containerdVersion}: pod ↔ pod on one bridge, medians of ${iterations} runs\n`);
    process.stdout.write(`${table(['', 'runc', 'vnode', 'vnode / runc'], [
      ['TCP throughput (Gbit/s)', round(r.median.runc.gbps, 2), round(r.median.vnode.gbps, 2), fmtRatio(r.ratio.gbps)],
      ['TCP RTT, light load (µs)', r.median.runc.tcpRttUs, r.median.vnode.tcpRttUs, fmtRatio(r.ratio.tcpRttUs)],
      ['ICMP RTT (ms)', r.median.runc.pingMs, r.median.vnode.pingMs, fmtRatio(r.ratio.pingMs)],
    ])}\n`);
  }
}

main().catch((e) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
