// Public surface of the cgroup component: where a cgroup is (one location type for v1,
// v2 and the systemd driver's units), which layout the host has (v1, hybrid, v2), the
// /proc/<pid>/cgroup parser, and the readers: Task API metrics, members and OOM kills
// for the manager, normalized limits and usage for vnodefs.
export {
  V1_CONTROLLERS,
  asCgroupLocation,
  controllerDir,
  isV1Controller,
  locationAt,
  membersDir,
  parentLocation,
  type CgroupLocation,
  type CgroupV1Location,
  type CgroupV2Location,
  type SystemdUnit,
  type V1Controller,
} from './location.js';
export { hostCgroupLayout, isUnifiedHost, parseCgroupLayout, standardLayout, type CgroupLayout, type CgroupMode } from './layout.js';
export { cgroupOf, locationFromProcCgroup, narrowLocation, parseProcCgroup, procCgroupText, type ProcCgroupEntry } from './proc-cgroup.js';
export {
  CgroupPathError,
  cgroupsPathDir,
  expandSlice,
  locationOfCgroupsPath,
  parseCgroupsPath,
  podCgroupOf,
  systemdScopeOf,
  systemdUnitName,
  taskCgroupOf,
  type CgroupsPath,
} from './cgroups-path.js';
export {
  V1_DELEGATED_FILES,
  V1_NOT_DELEGATED,
  V2_DEFAULT_DELEGATED_FILES,
  delegationPlan,
  mountsCgroupfsWritable,
  parseDelegateFiles,
  parseHierarchies,
  type CgroupHierarchy,
  type DelegationInput,
  type DelegationTarget,
} from './delegation.js';
export {
  cpuMask,
  resourceProperties,
  setPropertiesArgs,
  sharesToWeight,
  startScopeArgs,
  stopUnitArgs,
  type OciResources,
  type ScopeRequest,
  type UnitProperty,
} from './systemd-unit.js';
export { cgroupPids, metricsOf, metricsV1, metricsV2, oomKills } from './metrics.js';
export { CgroupReader, type CpuFacts, type IoCounters, type MemoryFacts, type TaskFacts } from './reader.js';
export { parseCpuList, pastFreshPeriod, readCacheTtl, readFresh, readKeyed, readLimit, readNumber, readText, setReadCacheTtl } from './files.js';
