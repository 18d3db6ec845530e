// The systemd cgroup driver, done by the manager (docs/cgroups.md, "Drivers"). runc's and
// crun's --systemd-cgroup asks systemd over D-Bus for a scope holding the container's
// init by its PID, and systemd reads PIDs in its own PID namespace; the runtime runs in
// the vNode's, so the PID it sends names another process on the host. vnode therefore
// runs the runtime with the cgroupfs driver at the scope's directory and then asks
// systemd itself for the scope, with the init's host PID, Delegate=yes and the same
// limits as unit properties (systemd re-applies a unit's properties on daemon-reload:
// limits it does not know about would be reset). Pure: builds busctl's arguments.
import { parseCpuList } from './files.js';

/** The resource fields of an OCI spec's linux.resources this driver carries over. */
export interface OciResources {
  memory?: { limit?: number; reservation?: number; swap?: number };
  cpu?: { shares?: number; quota?: number; period?: number; cpus?: string; mems?: string };
  pids?: { limit?: number };
}

/** One unit property in busctl's notation: name, D-Bus signature, values. */
export type UnitProperty = [name: string, signature: string, ...values: string[]];

const UINT64_MAX = '18446744073709551615';

/** runc's conversion of cgroup v1 cpu.shares [2, 262144] to v2 cpu.weight [1, 10000]. */
export function sharesToWeight(shares: number): number {
  if (shares <= 0) return 0;
  return Math.floor(1 + ((Math.min(Math.max(shares, 2), 262144) - 2) * 9999) / 262142);
}

/** A CPU or memory-node list ("0-3,8") as systemd's byte-array bitmask (bit n of byte n/8 is CPU n). */
export function cpuMask(list: string): number[] {
  const bytes: number[] = [];
  for (const cpu of parseCpuList(list)) {
    const i = cpu >> 3;
    while (bytes.length <= i) bytes.push(0);
    bytes[i]! |= 1 << (cpu & 7);
  }
  return bytes;
}

/**
 * The unit properties that carry the spec's limits (v2 names on unified hosts, the
 * legacy ones on v1). CPU quota per second is rounded up to systemd's 10 ms steps, as
 * runc does, so systemd's value and the runtime's agree.
 */
export function resourceProperties(r: OciResources | undefined, unified: boolean): UnitProperty[] {
  const out: UnitProperty[] = [];
  const mem = r?.memory;
  const limit = mem?.limit ?? 0;
  if (limit > 0) out.push([unified ? 'MemoryMax' : 'MemoryLimit', 't', String(limit)]);
  if (unified && (mem?.reservation ?? 0) > 0) out.push(['MemoryLow', 't', String(mem!.reservation)]);
  if (unified && mem?.swap !== undefined && mem.swap !== 0) {
    // OCI's swap is memory + swap; cgroup v2's memory.swap.max is swap alone
    if (mem.swap === -1) out.push(['MemorySwapMax', 't', UINT64_MAX]);
    else if (limit > 0 && mem.swap >= limit) out.push(['MemorySwapMax', 't', String(mem.swap - limit)]);
  }
  const cpu = r?.cpu;
  if ((cpu?.shares ?? 0) > 0) out.push(unified ? ['CPUWeight', 't', String(sharesToWeight(cpu!.shares!))] : ['CPUShares', 't', String(cpu!.shares)]);
  const quota = cpu?.quota ?? 0;
  const period = cpu?.period || 100_000;
  if (quota > 0) {
    let perSec = Math.floor((quota * 1_000_000) / period);
    if (perSec % 10_000 !== 0) perSec = (Math.floor(perSec / 10_000) + 1) * 10_000;
    out.push(['CPUQuotaPerSecUSec', 't', String(perSec)]);
    if (unified && cpu?.period) out.push(['CPUQuotaPeriodUSec', 't', String(cpu.period)]);
  }
  if (unified && cpu?.cpus) {
    const m = cpuMask(cpu.cpus);
    out.push(['AllowedCPUs', 'ay', String(m.length), ...m.map(String)]);
  }
  if (unified && cpu?.mems) {
    const m = cpuMask(cpu.mems);
    out.push(['AllowedMemoryNodes', 'ay', String(m.length), ...m.map(String)]);
  }
  const pids = r?.pids?.limit;
  if (pids !== undefined && pids !== 0) out.push(['TasksMax', 't', pids < 0 ? UINT64_MAX : String(pids)]);
  return out;
}

export interface ScopeRequest {
  /** e.g. "cri-containerd-abcd.scope". */
  unit: string;
  /** e.g. "kubepods-burstable-pod1234.slice". */
  slice: string;
  hostPid: number;
  resources?: OciResources;
  unified: boolean;
  description?: string;
}

const MANAGER = ['org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager'];

function flatten(props: UnitProperty[]): string[] {
  return [String(props.length), ...props.flat()];
}

/** `busctl call` arguments for StartTransientUnit of the container's scope. */
export function startScopeArgs(s: ScopeRequest): string[] {
  const props: UnitProperty[] = [
    ['Description', 's', s.description ?? `vnode container ${s.unit}`],
    ['Slice', 's', s.slice],
    ['DefaultDependencies', 'b', 'false'],
    ['Delegate', 'b', 'true'],
    ['PIDs', 'au', '1', String(s.hostPid)],
    ['MemoryAccounting', 'b', 'true'],
    ['CPUAccounting', 'b', 'true'],
    [s.unified ? 'IOAccounting' : 'BlockIOAccounting', 'b', 'true'],
    ['TasksAccounting', 'b', 'true'],
    ...resourceProperties(s.resources, s.unified),
  ];
  return ['call', '--quiet', ...MANAGER, 'StartTransientUnit', 'ssa(sv)a(sa(sv))', s.unit, 'replace', ...flatten(props), '0'];
}

/** `busctl call` arguments for SetUnitProperties after an update (runtime only, as runc does). */
export function setPropertiesArgs(unit: string, resources: OciResources | undefined, unified: boolean): string[] | undefined {
  const props = resourceProperties(resources, unified);
  if (props.length === 0) return undefined;
  return ['call', '--quiet', ...MANAGER, 'SetUnitProperties', 'sba(sv)', unit, 'true', ...flatten(props)];
}

/** `busctl call` arguments for StopUnit once the container is deleted. */
export function stopUnitArgs(unit: string): string[] {
  return ['call', '--quiet', ...MANAGER, 'StopUnit', 'ss', unit, 'replace'];
}
