// What containerd's CRI does around CNI for a pod sandbox, observed with a probe plugin
// appended to the runc handler's chain (the reference; no vnode code involved). These
// are the facts the pod-network design rests on (docs/networking.md):
// - ADD runs before the sandbox task exists (no bundle, no shim for the sandbox id);
// - CNI_NETNS is a bind mount of the netns and the sandbox spec's network path;
// - DEL runs after the sandbox's task is deleted, while the netns is still mounted;
// - CNI_ARGS carries K8S_POD_NAMESPACE, K8S_POD_NAME, K8S_POD_INFRA_CONTAINER_ID; CNI_IFNAME is eth0.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, chmodSync, mkdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { availableContainerdVersions, startContainerd, type ContainerdInstance } from '../../support/containerd.js';
import { criEnv, TestPod } from '../../support/cri.js';

const root = process.getuid?.() === 0;

const PROBE = (node: string) => `#!${node}
const fs = require('fs');
const env = process.env;
const conf = JSON.parse(fs.readFileSync(0, 'utf8'));
const id = env.CNI_CONTAINERID;
const task = conf.stateDir + '/io.containerd.runtime.v2.task/k8s.io/' + id;
const procs = fs.readdirSync('/proc').filter((p) => /^\\d+$/.test(p) && Number(p) !== process.pid).map((p) => {
  try { return fs.readFileSync('/proc/' + p + '/cmdline', 'utf8').split('\\0').join(' '); } catch { return ''; }
}).filter((c) => c.includes(id));
let initAlive = null;
try {
  const pid = fs.readFileSync(task + '/init.pid', 'utf8').trim();
  initAlive = fs.existsSync('/proc/' + pid) && !/^State:\\s+Z/m.test(fs.readFileSync('/proc/' + pid + '/status', 'utf8'));
} catch {}
const mounted = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\\n').some((l) => l.split(' ')[4] === env.CNI_NETNS);
fs.writeFileSync(conf.logDir + '/' + Date.now() + '-' + env.CNI_COMMAND + '.json', JSON.stringify({
  command: env.CNI_COMMAND, id, netns: env.CNI_NETNS, ifname: env.CNI_IFNAME, args: env.CNI_ARGS,
  runtimeConfig: conf.runtimeConfig || null, hasPrev: !!conf.prevResult, bundle: fs.existsSync(task), procs, initAlive, mounted,
}));
process.stdout.write(JSON.stringify(conf.prevResult || { cniVersion: conf.cniVersion }));
`;

interface ProbeRecord { command: string; id: string; netns: string; ifname: string; args: string; runtimeConfig: Record<string, unknown> | null; hasPrev: boolean; bundle: boolean; procs: string[]; initAlive: boolean | null; mounted: boolean }

for (const version of availableContainerdVersions().filter((v) => v !== '1.6')) {
  describe(`CRI around CNI for a sandbox (containerd ${version}, runc handler)`, { skip: root ? false : 'needs root' }, () => {
    let ctd: ContainerdInstance;
    let logDir = '';
    before(async () => {
      ctd = await startContainerd({
        version,
        configure: (config) => {
          const cri = version === '2' ? config['plugins']['io.containerd.cri.v1.runtime'] : config['plugins']['io.containerd.grpc.v1.cri'];
          const confDir: string = cri.cni.conf_dir;
          const binDir: string = version === '2' ? cri.cni.bin_dirs[0] : cri.cni.bin_dir;
          logDir = join(confDir, '..', 'probe-log');
          mkdirSync(logDir, { recursive: true });
          const file = readdirSync(confDir).find((f) => f.endsWith('.conflist'))!;
          const list = JSON.parse(readFileSync(join(confDir, file), 'utf8'));
          const state: string = config['state'];
          list.plugins.push({ type: 'cni-probe', logDir, stateDir: state, capabilities: { portMappings: true, dns: true, bandwidth: true, 'io.kubernetes.cri.pod-annotations': true, cgroupPath: true } });
          writeFileSync(join(confDir, file), JSON.stringify(list));
          writeFileSync(join(binDir, 'cni-probe'), PROBE(process.execPath));
          chmodSync(join(binDir, 'cni-probe'), 0o755);
        },
      });
    });
    after(async () => { await ctd?.stop(); });

    it('ADD before the task, DEL after it, on the netns path the sandbox spec names', { timeout: 120_000 }, async () => {
      const pod = await TestPod.run(criEnv(ctd, 'runc'), { name: 'probe', namespace: 'net-facts' });
      const spec = JSON.parse(readFileSync(join(ctd.state, 'io.containerd.runtime.v2.task', 'k8s.io', pod.id, 'config.json'), 'utf8'));
      const netPath = (spec.linux.namespaces as { type: string; path?: string }[]).find((n) => n.type === 'network')?.path;
      const status = await pod.cri.podSandboxStatus(pod.id);
      await pod.remove();
      const recs = readdirSync(logDir).sort().map((f) => JSON.parse(readFileSync(join(logDir, f), 'utf8')) as ProbeRecord).filter((r) => r.id === pod.id);
      console.log(JSON.stringify({ version: ctd.fullVersion, netPath, podIp: status.status?.network?.ip, recs }, null, 1));
      const add = recs.find((r) => r.command === 'ADD')!;
      const dels = recs.filter((r) => r.command === 'DEL');
      assert.ok(add, 'ADD ran');
      assert.equal(add.bundle, false, 'no task bundle for the sandbox at ADD');
      assert.deepEqual(add.procs, [], 'no shim or runtime process for the sandbox at ADD');
      assert.equal(add.mounted, true, 'CNI_NETNS is a mount');
      assert.equal(add.hasPrev, true);
      assert.equal(add.ifname, 'eth0');
      assert.equal(netPath, add.netns, 'the sandbox spec joins the netns at CNI_NETNS');
      assert.match(add.args, /K8S_POD_NAMESPACE=net-facts/);
      assert.match(add.args, /K8S_POD_NAME=probe/);
      assert.match(add.args, new RegExp(`K8S_POD_INFRA_CONTAINER_ID=${pod.id}`));
      assert.ok(dels.length >= 1, 'DEL ran');
      assert.equal(dels[0]!.bundle, false, "the sandbox's task is deleted (bundle gone) before DEL");
      assert.deepEqual(dels[0]!.procs, [], 'no shim or runtime process for the sandbox at DEL');
      assert.equal(dels[0]!.netns, add.netns, 'the first DEL gets the same netns path');
      assert.equal(dels[0]!.mounted, true, 'the netns is still mounted at DEL');
      assert.equal(existsSync(add.netns), false, 'removed after DEL');
    });
  });
}
