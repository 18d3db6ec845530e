// The systemd cgroup driver's side the manager does itself (why: cgroup/systemd-unit.ts).
// Before `runtime create`: is this a systemd-form cgroupsPath, and is systemd there to
// take the scope? After it: StartTransientUnit for the scope with the init's host PID,
// Delegate=yes and the spec's limits. On update: the new limits as unit properties. On
// delete: StopUnit (systemd also collects an empty scope by itself).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { isUnifiedHost, setPropertiesArgs, startScopeArgs, stopUnitArgs, systemdScopeOf, type CgroupLocation, type OciResources } from '../../cgroup/index.js';
import type { OciSpec } from '../../oci/index.js';
import type { Logger } from '../../log/index.js';
import { PreconditionError } from './errors.js';

const run = promisify(execFile);

/** systemd's own test for "booted with systemd" (sd_booted). */
export function systemdRunning(root = '/'): boolean {
  return existsSync(`${root.replace(/\/$/, '')}/run/systemd/system`);
}

/** busctl could not reach systemd or systemd refused; `code` is stable. */
export class SystemdScopeError extends Error {
  override name = 'SystemdScopeError';
  readonly code = 'VNODE_SYSTEMD_SCOPE';
}

export interface Scope {
  slice: string;
  unit: string;
}

/**
 * The scope a task's spec asks for (systemd-form cgroupsPath), checked before anything
 * is created: a systemd-form path on a host without systemd is refused here.
 */
export function scopeOfSpec(spec: OciSpec, running = systemdRunning()): Scope | undefined {
  let scope: Scope | undefined;
  try {
    scope = systemdScopeOf(spec.linux?.cgroupsPath);
  } catch {
    return undefined; // the planner refuses it with the reason
  }
  if (!scope) return undefined;
  if (!running) {
    throw new PreconditionError(`cgroupsPath "${spec.linux?.cgroupsPath}" is for the systemd cgroup driver, but systemd is not running on this host (no /run/systemd/system): set SystemdCgroup = false in containerd's runtime options (and kubelet's cgroupDriver: cgroupfs)`);
  }
  return { slice: scope.slice, unit: scope.unit };
}

async function busctl(args: string[]): Promise<void> {
  try {
    await run('busctl', args, { timeout: 15_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new SystemdScopeError(`busctl ${args.slice(5, 7).join(' ')}: ${(err.stderr ?? '').trim() || err.message}`);
  }
}

/** After `runtime create`: systemd takes the scope (the runtime made its directory and put the init there). Returns the location with its unit. */
export async function startScope(scope: Scope, hostPid: number, spec: OciSpec, cgroup: CgroupLocation | undefined): Promise<CgroupLocation | undefined> {
  const resources = spec.linux?.resources as OciResources | undefined;
  await busctl(startScopeArgs({ unit: scope.unit, slice: scope.slice, hostPid, resources, unified: isUnifiedHost() }));
  return cgroup ? { ...cgroup, systemd: { slice: scope.slice, unit: scope.unit } } : undefined;
}

/** After `runtime update`: the same limits as unit properties, so a daemon-reload keeps them. */
export async function updateScope(cgroup: CgroupLocation | undefined, resourcesJson: string): Promise<void> {
  if (!cgroup?.systemd) return;
  let resources: OciResources | undefined;
  try {
    resources = JSON.parse(resourcesJson || '{}') as OciResources;
  } catch {
    return;
  }
  const args = setPropertiesArgs(cgroup.systemd.unit, resources, isUnifiedHost());
  if (args) await busctl(args);
}

/** After `runtime delete`: stops the scope; one systemd already collected is not an error. */
export async function stopScope(cgroup: CgroupLocation | undefined, log: Pick<Logger, 'debug'>): Promise<void> {
  if (!cgroup?.systemd) return;
  try {
    await busctl(stopUnitArgs(cgroup.systemd.unit));
  } catch (e) {
    log.debug({ err: e }, `stop ${cgroup.systemd.unit}: ${(e as Error).message}`);
  }
}
