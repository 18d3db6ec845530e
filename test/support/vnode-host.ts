// Host-side views of a vnode manager instance, for tests that check what a vNode
// looks like from outside and that nothing is left behind.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { managerInstance } from '../../src/shim/instance.js';
import type { VnodeRecord } from '../../src/manager/vnode.js';
import { after, before } from 'node:test';
import { startContainerd, type ContainerdInstance, type StartContainerdOptions } from './containerd.js';
import { criEnv, type CriEnv } from './cri.js';

export function instanceDir(ctd: ContainerdInstance): string {
  return managerInstance(ctd.address).dir;
}

export function vnodeRecords(ctd: ContainerdInstance): VnodeRecord[] {
  const dir = join(instanceDir(ctd), 'state', 'vnodes');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as VnodeRecord);
}

export function taskStateFiles(ctd: ContainerdInstance): string[] {
  const dir = join(instanceDir(ctd), 'state', 'tasks');
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** ID-range leases held by this instance's manager. */
export function leasesOf(ctd: ContainerdInstance): string[] {
  const dir = '/run/vnode/idpool';
  if (!existsSync(dir)) return [];
  const mine = instanceDir(ctd);
  return readdirSync(dir).filter((f) => {
    try {
      return (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { owner: string }).owner.startsWith(`${mine}#`);
    } catch {
      return false;
    }
  });
}

export function mountsBelow(dir: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[4] ?? '')
    .filter((mp) => mp === dir || mp.startsWith(`${dir}/`));
}

/** Host PIDs of live processes named vnode-init (of one containerd instance's manager, if given). */
export function vnodeInitPids(ctd?: ContainerdInstance): number[] {
  const out: number[] = [];
  const mine = ctd ? `VNODE_MANAGER_SOCKET=${join(instanceDir(ctd), 'manager.sock')}` : undefined;
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      // zombies are dead: the host's init reaps them when it gets to it
      if (readFileSync(`/proc/${p}/comm`, 'utf8').trim() !== 'vnode-init' || /^State:\s+Z/m.test(readFileSync(`/proc/${p}/status`, 'utf8'))) continue;
      // the manager's environment is inherited: it tells whose vNode this is
      if (mine && !readFileSync(`/proc/${p}/environ`, 'utf8').split('\0').includes(mine)) continue;
      out.push(Number(p));
    } catch {
      /* gone */
    }
  }
  return out;
}

/** First host UID of /proc/<pid>/uid_map's first line as printed inside a container ("0 1048576 65536"). */
export function parseUidMap(text: string): { inside: number; outside: number; size: number } {
  const [inside = NaN, outside = NaN, size = NaN] = text.trim().split('\n')[0]!.trim().split(/\s+/).map(Number);
  return { inside, outside, size };
}

/**
 * The suite's private containerd (vnode and runc handlers): started before the suite's
 * tests, stopped after them. Read `ctd` and `env` inside tests, not at definition time.
 */
export function vnodeSuite(opts: StartContainerdOptions): { ctd: ContainerdInstance; env: CriEnv } {
  const suite = {} as { ctd: ContainerdInstance; env: CriEnv };
  before(async () => {
    suite.ctd = await startContainerd(opts);
    suite.env = criEnv(suite.ctd, 'vnode');
  });
  after(async () => {
    await suite.ctd?.stop();
  });
  return suite;
}

/** PID of the manager serving this containerd instance. */
export function managerPid(ctd: ContainerdInstance): number {
  return Number(readFileSync(join(instanceDir(ctd), 'manager.pid'), 'utf8').trim().split(' ')[0]);
}
