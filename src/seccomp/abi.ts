// The kernel ABI of seccomp user notification and of struct sysinfo, as byte layouts
// (include/uapi/linux/seccomp.h, include/uapi/linux/sysinfo.h). Pure: no syscalls here.
import type { SysinfoView } from '../vnodefs/index.js';

export const AUDIT_ARCH_X86_64 = 0xc000003e;
export const AUDIT_ARCH_I386 = 0x40000003;
export const AUDIT_ARCH_AARCH64 = 0xc00000b7;

/** _IOWR('!', 0, struct seccomp_notif) and friends. */
export const SECCOMP_IOCTL_NOTIF_RECV = 0xc0502100;
export const SECCOMP_IOCTL_NOTIF_SEND = 0xc0182101;
export const SECCOMP_IOCTL_NOTIF_ID_VALID = 0x40082102;
export const SECCOMP_USER_NOTIF_FLAG_CONTINUE = 1;

/** sizeof(struct seccomp_notif): id u64, pid u32, flags u32, then struct seccomp_data (64). */
export const NOTIF_SIZE = 80;
export const NOTIF_RESP_SIZE = 24;

/** The syscalls vnode's filter (native/seccomp-filter.h) sends to the supervisor, per ABI. */
export type NotifiedSyscall = 'sysinfo' | 'bpf' | 'mount';
const NOTIFIED: Record<number, Record<number, NotifiedSyscall>> = {
  [AUDIT_ARCH_X86_64]: { 99: 'sysinfo', 321: 'bpf', 165: 'mount' },
  [AUDIT_ARCH_I386]: { 116: 'sysinfo', 357: 'bpf', 21: 'mount' },
  [AUDIT_ARCH_AARCH64]: { 179: 'sysinfo', 280: 'bpf', 40: 'mount' },
};

/** Filesystem types whose mounts the supervisor handles; any other mount goes on to the kernel (native/vnode-notify.c keeps the same list). */
export const SUPERVISED_FS_TYPES = new Set(['proc', 'sysfs', 'nfsd', 'rpc_pipefs']);

export interface Notification {
  id: bigint;
  /** The caller, as a PID of the supervisor's PID namespace (0 if it is not visible there). */
  pid: number;
  nr: number;
  arch: number;
  args: bigint[];
  /** What the filter notifies this number for, if it is one of ours. */
  syscall: NotifiedSyscall | undefined;
}

export function parseNotification(b: Uint8Array): Notification {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const nr = v.getInt32(16, true);
  const arch = v.getUint32(20, true);
  const args: bigint[] = [];
  for (let i = 0; i < 6; i++) args.push(v.getBigUint64(32 + 8 * i, true));
  return { id: v.getBigUint64(0, true), pid: v.getUint32(8, true), nr, arch, args, syscall: NOTIFIED[arch]?.[nr] };
}

/** struct seccomp_notif_resp: the value to return, or a positive errno to fail with, or continue. */
export function encodeResponse(id: bigint, r: { val?: bigint; error?: number; continue?: boolean }): Buffer {
  const b = Buffer.alloc(NOTIF_RESP_SIZE);
  b.writeBigUInt64LE(id, 0);
  b.writeBigInt64LE(r.val ?? 0n, 8);
  // the kernel wants -errno here
  b.writeInt32LE(r.error ? -r.error : 0, 16);
  b.writeUInt32LE(r.continue ? SECCOMP_USER_NOTIF_FLAG_CONTINUE : 0, 20);
  return b;
}

const SI_LOAD_SHIFT = 16;

/**
 * struct sysinfo as the caller's ABI lays it out: 112 bytes with 64-bit longs, 64 with
 * 32-bit ones (i386). Sizes are in units of mem_unit, which grows until every value fits
 * an unsigned long (the kernel's own rule for 32-bit callers).
 */
export function encodeSysinfo(s: SysinfoView, arch: number): Buffer {
  const wide = arch !== AUDIT_ARCH_I386;
  const long = wide ? 8 : 4;
  const max = wide ? 2 ** 64 - 1 : 2 ** 32 - 1;
  const sizes = [s.totalram, s.freeram, s.sharedram, s.bufferram, s.totalswap, s.freeswap];
  let unit = 1;
  while (sizes.some((x) => Math.floor(x / unit) > max)) unit *= 2;
  const b = Buffer.alloc(wide ? 112 : 64);
  const put = (off: number, n: number): void => {
    const v = BigInt(Math.max(0, Math.min(Math.floor(n), max)));
    if (wide) b.writeBigUInt64LE(v, off);
    else b.writeUInt32LE(Number(v), off);
  };
  put(0, s.uptime);
  s.loads.forEach((l, i) => put(long * (1 + i), Math.round(l * 2 ** SI_LOAD_SHIFT)));
  sizes.forEach((x, i) => put(long * (4 + i), x / unit));
  b.writeUInt16LE(Math.min(s.procs, 0xffff), long * 10);
  // totalhigh and freehigh stay 0 (no highmem)
  const after = long * 10 + long; // procs (u16) padded to a long
  b.writeUInt32LE(unit, after + 2 * long);
  return b;
}
