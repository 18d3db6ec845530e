// Shared by the install tests: a private containerd from a kubeadm-like config whose PATH
// has no vnode shim, fresh CRI clients after restarts, and a vnode pod that must run.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { managerInstance } from '../../../src/shim/index.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startContainerd, type ContainerdInstance, type ContainerdVersion, type StartContainerdOptions } from '../../support/containerd.js';
import { CriClient, TestPod, criEnv, type CriEnv } from '../../support/cri.js';
import { kubeadmV2, kubeadmV3 } from './configs.js';

export type Cleanups = (() => Promise<void> | void)[];


/** A private containerd from a kubeadm-like config; containerd's PATH has no vnode shim. */
export async function kubeadmContainerd(cleanups: Cleanups, version: ContainerdVersion, configPath?: string, more: Pick<StartContainerdOptions, 'cgroupDriver' | 'systemdUnit'> = {}): Promise<ContainerdInstance> {
  const emptyBin = mkdtempSync(join(tmpdir(), 'vnode-nobin-'));
  cleanups.push(() => rmSync(emptyBin, { recursive: true, force: true }));
  const certs = mkdtempSync(join(tmpdir(), 'vnode-certs-'));
  cleanups.push(() => rmSync(certs, { recursive: true, force: true }));
  const ctd = await startContainerd({
    version, vnodeBinDir: emptyBin, configPath, ...more,
    renderConfig: (c) => (version === '2' ? kubeadmV3(c, certs) : kubeadmV2(c)),
  });
  cleanups.push(() => ctd.stop());
  return ctd;
}

/** A fresh CRI client (the instance's own was connected to the containerd before the restart). */
export async function freshEnv(ctd: ContainerdInstance, handler: string): Promise<CriEnv & { close(): void }> {
  const cri = await CriClient.connect(ctd.address, { waitMs: 30_000 });
  return { ...criEnv(ctd, handler), cri, close: () => cri.close() };
}

export async function removeAllPods(ctd: ContainerdInstance): Promise<void> {
  const cri = await CriClient.connect(ctd.address, { waitMs: 10_000 });
  try {
    for (const p of await cri.listPodSandbox()) {
      await cri.stopPodSandbox(p.id).catch(() => {});
      await cri.removePodSandbox(p.id).catch(() => {});
    }
  } finally {
    cri.close();
  }
}

export async function vnodePodRuns(ctd: ContainerdInstance): Promise<TestPod> {
  const env = await freshEnv(ctd, 'vnode');
  try {
    const pod = await TestPod.run(env, { namespace: 'tenant-a' });
    const cid = await pod.runContainer({ name: 'main', image: ctd.images.busybox, command: ['sleep', '3600'] });
    await pod.waitForState(cid, 'CONTAINER_RUNNING');
    const r = await env.cri.execSync(cid, ['cat', '/proc/self/uid_map'], 10);
    assert.match(r.stdout.toString(), /^\s*0\s+\d+\s+65536/, 'the container runs in a vNode user namespace');
    return pod;
  } catch (err) {
    let log = '';
    try { log = readFileSync(managerInstance(ctd.address).logFile, 'utf8').split('\n').slice(-25).join('\n'); } catch { /* none */ }
    (err as Error).message += `\n--- vnode-manager log ---\n${log}`;
    throw err;
  }
}
