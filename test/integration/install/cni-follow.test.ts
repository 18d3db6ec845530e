// The vnode runtime's CNI conflist follows the node's primary network after `vnode
// install`: a private containerd 2.x from a kubeadm-like config, installed into a prefix
// without --service, so the manager is the one the shim spawns on the first vnode pod (it
// learns the two conf dirs from the install record next to it). Then the node's primary
// conflist is rewritten (another bridge and subnet, another plugin), as a network agent or
// an upgrade does: the vnode copy follows within a bounded wait, vnode-cni still last, and
// a vnode pod started after that gets its IP from the new subnet (CRI PodSandboxStatus).
// Removing the primary conflist keeps the last copy, and vnode pods keep starting.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { availableContainerdVersions } from '../../support/containerd.js';
import { TestPod, type CriEnv } from '../../support/cri.js';
import { managerInstance } from '../../../src/shim/index.js';
import { freeSubnet } from '../../../src/install/index.js';
import { describeResult, isBuilt, startVnode, type VnodeResult } from '../cli/helpers.js';
import { freshEnv, kubeadmContainerd, removeAllPods, vnodePodRuns, type Cleanups } from './harness.js';

const isRoot = process.getuid?.() === 0;
const vnode = (args: string[]): Promise<VnodeResult> => startVnode(args, { VNODE_TEST_BIN: '1' }).done;
const cleanups: Cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

type Conflist = { name: string; plugins: { type: string; bridge?: string; ipam?: { ranges: { subnet: string }[][] } }[] };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(what: string, f: () => T | undefined, ms: number, diag: () => string): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}\n${diag()}`);
    await sleep(100);
  }
}

async function podIp(env: CriEnv, namespace: string, image: string): Promise<{ pod: TestPod; ip: string }> {
  const pod = await TestPod.run(env, { namespace });
  const cid = await pod.runContainer({ name: 'main', image, command: ['sleep', '3600'] });
  await pod.waitForState(cid, 'CONTAINER_RUNNING');
  const s = (await env.cri.podSandboxStatus(pod.id)) as { status?: { network?: { ip?: string } } };
  return { pod, ip: s.status?.network?.ip ?? '' };
}

describe('the vnode CNI conflist follows the primary network', { skip: !isRoot ? 'needs root (containerd, runc, vNodes)' : !isBuilt() ? 'npm run build first' : !availableContainerdVersions().includes('2') ? 'containerd 2 missing: scripts/setup-host.sh' : false }, () => {
  // both reload a per-runtime cni_conf_dir when it changes
  for (const version of (['2', '1.7'] as const).filter((v) => availableContainerdVersions().includes(v))) it(`containerd ${version}: a rewritten primary conflist reaches the vnode copy and the next vnode pod; a removed one keeps the copy`, { timeout: 240_000 }, async () => {
    const ctd = await kubeadmContainerd(cleanups, version);
    const prefix = mkdtempSync(join(tmpdir(), 'vnode-prefix-'));
    cleanups.push(() => rmSync(prefix, { recursive: true, force: true }));
    const i = await vnode(['install', '--containerd-config', ctd.configPath, '--prefix', prefix]);
    assert.equal(i.code, 0, describeResult(i));
    const rec = JSON.parse(readFileSync(join(prefix, 'install.json'), 'utf8')) as { primaryCniConfDir: string; cniConfDir: string };
    assert.equal(rec.primaryCniConfDir, ctd.cniConfDir, 'the record names containerd\'s CRI conf_dir');
    const primaryFile = join(ctd.cniConfDir, '10-vnode-test.conflist');
    const copyFile = join(rec.cniConfDir, '10-vnode-test.conflist');
    const copy = () => JSON.parse(readFileSync(copyFile, 'utf8')) as Conflist;
    const managerLog = () => { try { return readFileSync(managerInstance(ctd.address).logFile, 'utf8'); } catch { return ''; } };
    const diag = () => `--- vnode dir: ${readdirSync(rec.cniConfDir).join(', ')}\n--- copy:\n${existsSync(copyFile) ? readFileSync(copyFile, 'utf8') : '(none)'}\n--- vnode-manager log ---\n${managerLog().split('\n').slice(-20).join('\n')}`;

    // the first vnode pod: the shim spawns the manager from the prefix, which starts following
    const first = await vnodePodRuns(ctd);
    await waitFor('the manager to follow', () => (managerLog().includes(`following the primary CNI network in ${ctd.cniConfDir} into ${rec.cniConfDir} (from ${join(prefix, 'install.json')})`) ? true : undefined), 10_000, diag);
    assert.ok(copy().plugins[0]!.ipam!.ranges[0]![0]!.subnet === ctd.subnet);

    // the network agent rewrites its conflist: another bridge (IPv4 bridges keep one address) and subnet, one more plugin
    let subnet = freeSubnet();
    while (subnet === ctd.subnet) subnet = freeSubnet();
    assert.ok(subnet, 'a free subnet');
    const bridge = `vnf${ctd.id}`.slice(0, 15);
    cleanups.push(() => { try { execFileSync('ip', ['link', 'del', bridge], { stdio: 'ignore' }); } catch { /* never made */ } });
    const primary = JSON.parse(readFileSync(primaryFile, 'utf8')) as Conflist & { plugins: Record<string, unknown>[] };
    primary.plugins[0]!['bridge'] = bridge;
    (primary.plugins[0]!['ipam'] as { ranges: { subnet: string }[][] }).ranges = [[{ subnet }]];
    primary.plugins.push({ type: 'tuning', sysctl: {} });
    const t0 = Date.now();
    writeFileSync(primaryFile, JSON.stringify(primary, null, 2) + '\n'); // in place, as `cat > file` does
    const followed = await waitFor('the vnode copy to follow', () => (existsSync(copyFile) && copy().plugins[0]!.ipam!.ranges[0]![0]!.subnet === subnet ? copy() : undefined), 15_000, diag);
    const took = Date.now() - t0;
    assert.deepEqual(followed.plugins.map((p) => p.type), ['bridge', 'tuning', 'vnode-cni'], 'vnode-cni still last');
    assert.equal(followed.plugins[0]!.bridge, bridge);
    assert.equal(followed.name, primary.name, 'the same network name: the same IPAM store');
    assert.deepEqual(readdirSync(rec.cniConfDir), ['10-vnode-test.conflist'], 'one conflist, no temp file left');
    // the manager's log is written asynchronously: the line may come a moment after the file
    const rewritten = new RegExp(`"msg":"vnode CNI conflist ${copyFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} rewritten from ${primaryFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(changed\\)"`);
    await waitFor('the manager to log the rewrite', () => (rewritten.test(managerLog()) ? true : undefined), 10_000, diag);
    console.log(`# the copy followed in ${took} ms`);

    // containerd reloads the vnode runtime's conf dir itself (fsnotify): the next vnode pod is on the new subnet
    await sleep(1_000);
    const env = await freshEnv(ctd, 'vnode');
    cleanups.push(() => env.close());
    const second = await podIp(env, 'tenant-b', ctd.images.busybox);
    const net = subnet!.replace(/0\/24$/, '');
    assert.ok(second.ip.startsWith(net), `a vnode pod after the change gets ${second.ip}, not an address of ${subnet}\n${diag()}`);

    // the primary conflist goes away (an agent's restart, a botched upgrade): the copy stays
    const before = readFileSync(copyFile, 'utf8');
    rmSync(primaryFile);
    await waitFor('the manager\'s warning', () => (managerLog().includes(`vnode CNI: no CNI network in ${ctd.cniConfDir}: keeping 10-vnode-test.conflist`) ? true : undefined), 15_000, diag);
    await sleep(500);
    assert.equal(readFileSync(copyFile, 'utf8'), before, 'the last good copy stays');
    const doc = await vnode(['doctor', '-o', 'json', '--prefix', prefix]);
    const cni = (JSON.parse(doc.stdout) as { checks: { name: string; status: string; detail: string }[] }).checks.find((c) => c.name === 'vnode CNI');
    assert.equal(cni?.status, 'WARN', JSON.stringify(cni));
    assert.match(cni!.detail, /^no CNI network in \S+: keeping 10-vnode-test\.conflist$/);
    const third = await podIp(env, 'tenant-c', ctd.images.busybox);
    console.log(`# vnode pods: ${second.ip} after the change, ${third.ip} with the primary gone (${subnet}; before: ${ctd.subnet})`);
    assert.ok(third.ip.startsWith(net), `a vnode pod while the primary is gone still gets an address of ${subnet}: ${third.ip}`);

    for (const p of [first, second.pod, third.pod]) await p.remove().catch(() => {});
    first.env.cri.close();
    await removeAllPods(ctd);
    await ctd.stop();
  });
});
