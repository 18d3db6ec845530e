// Where does the vnode manager spend its CPU while pods start? Runs a private containerd
// whose environment carries VNODE_MANAGER_BIN = a wrapper that starts the repo's
// bin/vnode-manager under `node --cpu-prof` (the shim spawns the manager through it; Node 20
// refuses --cpu-prof in NODE_OPTIONS), starts and removes vnode pods (existing and new
// vNodes), stops the manager with SIGTERM so that V8 writes its profile, and prints the
// functions and source files with the most self time. Function names survive the bundle (esbuild does not
// minify), file names are dist/ chunks.
//
//   node --import tsx bench/profile-manager.ts [--containerd 2|1.7] [--pods N]
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startContainerd } from '../test/support/containerd.js';
import { criEnv } from '../test/support/cri.js';
import { repoBinDir } from '../test/support/paths.js';
import {
  containerdVersions, intFlag, managerLocation, managerPid, nowMs, parseFlags, progress, removeManagerDirs, removePod, sleep, startPod, table,
} from './lib.js';

const USAGE = `usage: node --import tsx bench/profile-manager.ts [--containerd 2|1.7] [--pods N]
  --containerd V   containerd version (default 2)
  --pods N         pod starts per case (existing vNode, new vNode); default 10
`;

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), { values: ['containerd', 'pods'], booleans: [] }, USAGE);
  const version = containerdVersions(flags)[0]!;
  const n = intFlag(flags, 'pods', 10, 1);
  const profDir = mkdtempSync(join(tmpdir(), 'vnode-bench-cpuprof-'));
  const wrapper = join(profDir, 'vnode-manager-profiled');
  writeFileSync(wrapper, `#!/bin/sh\nexec ${process.execPath} --max-semi-space-size=1 --cpu-prof --cpu-prof-dir=${profDir} --cpu-prof-interval=250 ${join(repoBinDir, 'vnode-manager')} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const ctd = await startContainerd({ version, env: { VNODE_MANAGER_BIN: wrapper } });
  let windowMs = 0;
  try {
    progress(`containerd ${ctd.fullVersion} ready; profiles in ${profDir}`);
    const env = criEnv(ctd, 'vnode');
    const loc = managerLocation(ctd.address);
    const anchor = await startPod(env, 'prof-existing');
    const mgr = managerPid(loc);
    if (!mgr) throw new Error('no manager');
    const t0 = nowMs();
    for (let i = 0; i < n; i++) {
      for (const ns of ['prof-existing', `prof-new-${i}`]) {
        const r = await startPod(env, ns);
        await removePod(env, r.podId);
      }
    }
    windowMs = nowMs() - t0;
    progress(`${2 * n} pods started and removed in ${(windowMs / 1000).toFixed(1)} s; stopping the manager (pid ${mgr}) so that it writes its profile`);
    await removePod(env, anchor.podId);
    process.kill(mgr, 'SIGTERM');
    for (let i = 0; i < 100 && managerPid(loc) !== undefined; i++) await sleep(100);
    await sleep(500);
    const files = readdirSync(profDir).filter((f) => f.endsWith('.cpuprofile'));
    if (files.length === 0) throw new Error(`the manager wrote no profile in ${profDir} (files: ${readdirSync(profDir).length})`);
    const file = files.map((f) => join(profDir, f)).sort((a, b) => statSync(b).size - statSync(a).size)[0]!;
    const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((x) => [x.id, x]));
    const self = new Map<number, number>();
    p.samples.forEach((s, i) => self.set(s, (self.get(s) ?? 0) + (p.timeDeltas[i] ?? 0)));
    const fn = new Map<string, number>();
    const url = new Map<string, number>();
    let total = 0;
    let idle = 0;
    for (const [id, us] of self) {
      const node = byId.get(id)!;
      const name = node.callFrame.functionName || '(anonymous)';
      if (name === '(idle)') {
        idle += us;
        continue;
      }
      total += us;
      const file = node.callFrame.url.replace(/^file:\/\/.*\/dist\//, 'dist/').replace(/^node:/, 'node:') || '(native)';
      const k = `${name}  ${file}${node.callFrame.url ? `:${node.callFrame.lineNumber + 1}` : ''}`;
      fn.set(k, (fn.get(k) ?? 0) + us);
      url.set(file, (url.get(file) ?? 0) + us);
    }
    const wall = (p.endTime - p.startTime) / 1000;
    let out = `vnode-manager CPU profile (containerd ${ctd.fullVersion}; ${2 * n} pod starts + removals in ${(windowMs / 1000).toFixed(1)} s, plus start-up and idle)\n`;
    out += `profile ${(wall / 1000).toFixed(1)} s wall, ${(total / 1000).toFixed(0)} ms busy (${((total / 1000) / (2 * n)).toFixed(1)} ms per pod start + removal), ${(idle / 1000).toFixed(0)} ms idle\n\n`;
    const top = (m: Map<string, number>, k: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, k);
    out += table(['self time by file', 'ms', '%'], top(url, 12).map(([k, us]) => [k, (us / 1000).toFixed(0), ((100 * us) / total).toFixed(1)]));
    out += '\n';
    out += table(['self time by function', 'ms', '%'], top(fn, 25).map(([k, us]) => [k.length > 110 ? k.slice(0, 107) + '...' : k, (us / 1000).toFixed(0), ((100 * us) / total).toFixed(1)]));
    process.stdout.write(out);
  } finally {
    await ctd.stop();
    await removeManagerDirs(ctd.address);
    rmSync(profDir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`profile-manager: ${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
