// The inode tree of a vnodefs mount. One template, shared by every vNode:
//
//   /                          the mount root (node id 1), one directory per vNode
//   /<vnode>/proc/...          generated /proc files
//   /<vnode>/sys/devices/system/cpu/...
//   /<vnode>/masked/file       an empty read-only file to bind over host-only files
//   /<vnode>/masked/dir        an empty read-only directory to bind over host-only trees
//
// Node ids are computed, not allocated: slot(vnode) * 2^20 + template index. A
// restarted server therefore understands the node ids the kernel already holds.
import { PROC_FILES, SYSCTL_FILES, SYS_CPU_FILES, SYS_VCPU_FILES, empty, type Generator } from './generators/index.js';

export const SLOT_SHIFT = 2 ** 20;

export interface TemplateEntry {
  index: number;
  name: string;
  parent: number;
  dir: boolean;
  children: number[];
  gen?: Generator;
  /** For entries under sys/devices/system/cpu/cpuN: N (visible only when N < vCPU count). */
  cpu?: number;
  /** For writable per-vNode sysctls: the name under /proc/sys (e.g. "vm/max_map_count"). */
  sysctl?: string;
}

export class Template {
  readonly entries: TemplateEntry[] = [];

  constructor(maxCpus: number) {
    this.entries.push({ index: 0, name: '', parent: -1, dir: true, children: [] });
    for (const [path, gen] of Object.entries(PROC_FILES)) this.add(`proc/${path}`, gen);
    for (const [path, gen] of Object.entries(SYS_CPU_FILES)) this.add(`sys/devices/system/cpu/${path}`, gen);
    for (let c = 0; c < maxCpus; c++) {
      for (const [path, gen] of Object.entries(SYS_VCPU_FILES)) this.add(`sys/devices/system/cpu/cpu${c}/${path}`, gen, c);
    }
    this.add('masked/file', empty);
    this.dirAt('masked/dir');
    for (const [name, gen] of Object.entries(SYSCTL_FILES)) this.add(`proc/sys/${name}`, gen, undefined, name);
    // The order above is part of the kernel's state (node ids survive a manager
    // restart): add new entries at the end only.
    if (this.entries.length >= SLOT_SHIFT) throw new RangeError('vnodefs template too large');
  }

  get(index: number): TemplateEntry | undefined {
    return this.entries[index];
  }

  child(parent: number, name: string): TemplateEntry | undefined {
    const p = this.entries[parent];
    if (!p?.dir) return undefined;
    for (const i of p.children) if (this.entries[i]!.name === name) return this.entries[i];
    return undefined;
  }

  /** Template index of a path like "proc/meminfo" ("" is the vNode directory). */
  lookupPath(path: string): number | undefined {
    let at = 0;
    for (const part of path.split('/').filter(Boolean)) {
      const c = this.child(at, part);
      if (!c) return undefined;
      at = c.index;
    }
    return at;
  }

  private dirAt(path: string, cpu?: number): number {
    let at = 0;
    for (const part of path.split('/').filter(Boolean)) {
      const c = this.child(at, part);
      if (c) {
        at = c.index;
        continue;
      }
      const index = this.entries.length;
      const m = /^cpu(\d+)$/.exec(part);
      const e: TemplateEntry = { index, name: part, parent: at, dir: true, children: [] };
      if (m && cpu !== undefined && Number(m[1]) === cpu) e.cpu = cpu;
      this.entries.push(e);
      this.entries[at]!.children.push(index);
      at = index;
    }
    return at;
  }

  private add(path: string, gen: Generator, cpu?: number, sysctl?: string): void {
    const slash = path.lastIndexOf('/');
    const parent = this.dirAt(path.slice(0, slash), cpu);
    const index = this.entries.length;
    const e: TemplateEntry = { index, name: path.slice(slash + 1), parent, dir: false, children: [], gen };
    if (cpu !== undefined) e.cpu = cpu;
    if (sysctl !== undefined) e.sysctl = sysctl;
    this.entries.push(e);
    this.entries[parent]!.children.push(index);
  }
}

/** A stable 31-bit slot for a vNode id (FNV-1a); 0 is reserved for the root. */
export function slotOf(id: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < id.length; i++) {
    h ^= id.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return ((h >>> 0) % 0x7fffffff) + 1;
}

export function nodeIdOf(slot: number, index: number): number {
  return slot * SLOT_SHIFT + index;
}

export function splitNodeId(nodeid: number): { slot: number; index: number } {
  return { slot: Math.floor(nodeid / SLOT_SHIFT), index: nodeid % SLOT_SHIFT };
}

export const VNODE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
