// The DaemonSet's install step, run as a process with the init container's own command
// (read from `kubectl kustomize deploy/kubernetes`), against a directory that stands in
// for the node's root (the init container's /host), with a real containerd 2.x whose
// config lives below it. Paths the config names (/tmp/...) reach the real ones through
// <host root>/tmp -> /tmp, as the node's own paths do below /host.
// Then the image: `vnode image build-vnode` gives an OCI archive that ctr imports and
// whose Node.js and busybox applets run in a container.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { availableContainerdVersions, startContainerd } from '../../support/containerd.js';
import { BIN_VNODE, describeResult, isBuilt, startVnode, type VnodeResult } from '../cli/helpers.js';
import { renderDeploy } from '../../support/deploy.js';
import { liveRuntimeHandlers } from '../../../src/install/index.js';
import { freshEnv, kubeadmContainerd, removeAllPods, vnodePodRuns, type Cleanups } from './harness.js';

const isRoot = process.getuid?.() === 0;
const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const run = (argv: string[], env: Record<string, string> = {}): Promise<VnodeResult> => startVnode(argv, { VNODE_TEST_BIN: '1', ...env }).done;
const cleanups: Cleanups = [];
after(async () => { for (const c of cleanups.reverse()) await c(); });

describe('the DaemonSet', { skip: !isRoot ? 'needs root' : !isBuilt() ? 'npm run build first' : !availableContainerdVersions().includes('2') ? 'containerd 2 missing: scripts/setup-host.sh' : false }, () => {
  it('init container: vnode install --host-root into a stand-in host root, then uninstall', { timeout: 180_000 }, async () => {
    const objs = renderDeploy();
    const ds = objs.find((o) => o['kind'] === 'DaemonSet')!;
    const init = ds['spec'].template.spec.initContainers[0];
    const perPod = objs.find((o) => o['kind'] === 'ConfigMap')!['data'].VNODE_PER_POD as string;
    const [exe, ...args] = init.command as string[];
    assert.equal(exe, '/opt/vnode/bin/vnode');
    const hostIdx = args.indexOf('--host-root');
    assert.equal(args[hostIdx + 1], '/host');

    const host = mkdtempSync(join(tmpdir(), 'vnode-hostroot-'));
    cleanups.push(() => rmSync(host, { recursive: true, force: true }));
    symlinkSync('/tmp', join(host, 'tmp'));
    const ctd = await kubeadmContainerd(cleanups, '2', join(host, 'etc/containerd/config.toml'));
    const originalSha = sha(ctd.configPath);
    const prefix = mkdtempSync(join(tmpdir(), 'vnode-prefix-')); // a host path the real containerd reaches
    cleanups.push(() => rmSync(prefix, { recursive: true, force: true }));

    // The init container's command, with the stand-in host root and a prefix the test may use.
    const argv = [...args.slice(0, hostIdx + 1), host, ...args.slice(hostIdx + 2), '--prefix', prefix];
    // the init container's environment: the ConfigMap's keys (VNODE_PER_POD flipped, to see it arrive)
    const config = objs.find((o) => o['kind'] === 'ConfigMap')!['data'] as Record<string, string>;
    assert.deepEqual(Object.keys(config).sort(), ['VNODE_ALLOW_HOST_NETWORK', 'VNODE_PER_POD']);
    const r = await run(argv, { VNODE_PER_POD: perPod === 'false' ? 'true' : perPod, VNODE_ALLOW_HOST_NETWORK: config['VNODE_ALLOW_HOST_NETWORK']! });
    assert.equal(r.code, 0, `${BIN_VNODE} ${argv.join(' ')}\n${describeResult(r)}`);
    assert.match(r.stdout, /^config \/etc\/containerd\/config\.toml configured \(runtime vnode added, backup \/etc\/containerd\/config\.toml\.vnode-backup\)$/m);
    assert.match(r.stdout, /^service \/etc\/systemd\/system\/vnode-manager\.service created \(systemd is not running here: the unit is written, not enabled\)$/m);
    assert.match(r.stdout, /^containerd restarted /m);
    const unit = readFileSync(join(host, 'etc/systemd/system/vnode-manager.service'), 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=${prefix}/bin/vnode-manager$`, 'm'));
    assert.match(unit, new RegExp(`^Environment=VNODE_CONTAINERD_ADDRESS=${ctd.address}$`, 'm'));
    assert.equal(readFileSync(join(prefix, 'etc/vnode-manager.env'), 'utf8').split('\n')[1], 'VNODE_PER_POD=true', 'the ConfigMap\'s setting reaches the manager service');
    assert.match(readFileSync(join(prefix, 'etc/vnode-manager.env'), 'utf8'), /^VNODE_ALLOW_HOST_NETWORK=false$/m, 'so does VNODE_ALLOW_HOST_NETWORK');
    assert.ok(existsSync(join(host, 'etc/containerd/config.toml.vnode-backup')));

    const env = await freshEnv(ctd, 'vnode');
    assert.ok((await liveRuntimeHandlers(env.cri)).includes('vnode'));
    env.close();
    const pod = await vnodePodRuns(ctd);
    await pod.remove();
    pod.env.cri.close();

    const again = await run(argv);
    assert.equal(again.code, 0, describeResult(again));
    assert.match(again.stdout, /^service \S+ configured/m, 'a changed manager environment is a change');
    const third = await run(argv);
    assert.equal(third.code, 0, describeResult(third));
    assert.match(third.stdout, /^vnode install: nothing changed$/m, describeResult(third));

    const un = await run(['uninstall', '--host-root', host, '--prefix', prefix]);
    assert.equal(un.code, 0, describeResult(un));
    assert.equal(sha(ctd.configPath), originalSha);
    assert.ok(!existsSync(join(host, 'etc/systemd/system/vnode-manager.service')));
    assert.ok(!existsSync(prefix));
    await removeAllPods(ctd);
    await ctd.stop();
  });

  it('the image: an OCI archive that ctr imports; its Node.js, vnode and busybox applets run in a container', { timeout: 180_000 }, async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'vnode-img-')), 'vnode.tar');
    cleanups.push(() => rmSync(join(out, '..'), { recursive: true, force: true }));
    const b = await run(['image', 'build-vnode', '-o', out]);
    assert.equal(b.code, 0, describeResult(b));
    assert.match(b.stdout, /^localhost\/vnode\/vnode:0\.1\.0 sha256:[0-9a-f]{64} \S+ \(\d+ files, [\d.]+ MiB\)$/m);
    const ctd = await startContainerd({ version: '2', importImages: false });
    cleanups.push(() => ctd.stop());
    await ctd.ctr('-n', 'k8s.io', 'images', 'import', out);
    assert.match(await ctd.ctr('-n', 'k8s.io', 'images', 'ls', '-q'), /^localhost\/vnode\/vnode:0\.1\.0$/m);
    const help = await ctd.ctr('-n', 'k8s.io', 'run', '--rm', 'localhost/vnode/vnode:0.1.0', 'vnode-image-help', '/opt/vnode/bin/vnode', 'install', '--help');
    assert.match(help, /^Usage: vnode install \[flags\]$/m);
    const tools = await ctd.ctr('-n', 'k8s.io', 'run', '--rm', 'localhost/vnode/vnode:0.1.0', 'vnode-image-tools', '/bin/sh', '-c', 'nsenter --help 2>&1 | head -1; wget --help 2>&1 | head -1; /opt/vnode/bin/node -e "console.log(process.versions.node)"');
    assert.match(tools, /BusyBox v[\d.]+/);
    assert.match(tools, new RegExp(`^${process.versions.node.replace(/\./g, '\\.')}$`, 'm'), 'the image\'s Node.js runs with the libraries it carries');
    await ctd.stop();
  });
});
