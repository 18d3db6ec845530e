// What the supervisor reads about (and writes to) the process a notification is for:
// its memory through /proc/<pid>/mem, and its capabilities and user namespace.
// Every answer is checked against SECCOMP_IOCTL_NOTIF_ID_VALID after these reads, so a
// PID reused meanwhile is never answered for.
import { openSync, readFileSync, statSync } from 'node:fs';
import { hasEffectiveCap } from '../sys/index.js';
import { libc } from '../sys/index.js';

let fns: { pwrite: (fd: number, b: Uint8Array, n: number, off: bigint) => number; pread: (fd: number, b: Uint8Array, n: number, off: bigint) => number } | undefined;
function f() {
  fns ??= {
    pwrite: libc().func('long pwrite(int fd, const uint8_t *buf, unsigned long n, int64_t off)') as never,
    pread: libc().func('long pread(int fd, _Out_ uint8_t *buf, unsigned long n, int64_t off)') as never,
  };
  return fns;
}

/** The caller's memory; undefined if it is gone. */
export function openMem(pid: number, mode: 'r' | 'r+' = 'r'): number | undefined {
  try {
    return openSync(`/proc/${pid}/mem`, mode);
  } catch {
    return undefined;
  }
}

/** A NUL-terminated string of at most `max` bytes at `addr` of the caller ('' for NULL). */
export function readString(mem: number, addr: bigint, max: number): string {
  if (addr === 0n) return '';
  const b = Buffer.alloc(max);
  const n = Number(f().pread(mem, b, max, addr));
  if (n <= 0) return '';
  const end = b.subarray(0, n).indexOf(0);
  return b.subarray(0, end < 0 ? n : end).toString();
}

/** Writes `data` at `addr` of the caller; true if all of it was written. */
export function writeAt(mem: number, data: Uint8Array, addr: bigint): boolean {
  return Number(f().pwrite(mem, data, data.length, addr)) === data.length;
}

const CAP_SYS_ADMIN = 21;
export function hasCapSysAdmin(pid: number): boolean {
  try {
    return hasEffectiveCap(readFileSync(`/proc/${pid}/status`, 'utf8'), CAP_SYS_ADMIN);
  } catch {
    return false;
  }
}

let hostUserNs: number | undefined;

/** Whether `pid` is in this process's (the host's) user namespace: the runtime's own processes are. */
export function inHostUserNs(pid: number): boolean {
  hostUserNs ??= statSync('/proc/self/ns/user').ino;
  try {
    return statSync(`/proc/${pid}/ns/user`).ino === hostUserNs;
  } catch {
    return false;
  }
}
