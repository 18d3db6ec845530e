/*
 * seccomp-filter.h: vnode's seccomp filter as a classic BPF program (docs/seccomp.md).
 * build_filter(notify) fills `prog`/`len`; with notify, the calls the manager answers
 * (sysinfo; mount of a new filesystem; bpf) return SECCOMP_RET_USER_NOTIF, else they
 * are left to the kernel (sysinfo, mount) or denied (bpf).
 */
#ifndef VNODE_SECCOMP_FILTER_H
#define VNODE_SECCOMP_FILTER_H
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "vnode-seccomp: unsupported architecture"
#endif

#define MAX_INSNS 256
static struct sock_filter prog[MAX_INSNS];
static unsigned len;

static void emit(struct sock_filter insn) {
  if (len == MAX_INSNS) {
    fprintf(stderr, "vnode-seccomp: filter too long\n");
    exit(125);
  }
  prog[len++] = insn;
}

#define STMT(code, k) emit((struct sock_filter)BPF_STMT(code, k))
#define JUMP(code, k, jt, jf) emit((struct sock_filter)BPF_JUMP(code, k, jt, jf))
#define RET(action) STMT(BPF_RET | BPF_K, action)
#define DENY RET(SECCOMP_RET_ERRNO | EPERM)
#define LOAD_NR STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr))
/* Low 32 bits of argument i (little-endian): flags, modes and device numbers fit. */
#define LOAD_ARG_LO(i) STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[i]))

/* Syscall numbers of one ABI; -1 where the ABI has no such call. */
struct abi {
  int mknod, mknodat, unshare, clone, clone3, sysinfo, bpf, mount;
  int denied[24];
};

/* if (nr == X) return action; */
static void deny_nr(int nr, unsigned action) {
  if (nr < 0) return;
  JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 1);
  RET(action);
}

/*
 * mknod/mknodat: block devices, and character devices other than 0:0 (the overlayfs
 * whiteout, which image unpackers inside the vNode create), are denied. FIFOs,
 * sockets and regular files pass.
 */
static void mknod_rule(int nr, int mode_arg, int dev_arg) {
  if (nr < 0) return;
  JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 9);
  LOAD_ARG_LO(mode_arg);
  STMT(BPF_ALU | BPF_AND | BPF_K, S_IFMT);
  JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFBLK, 0, 1);
  DENY;
  JUMP(BPF_JMP | BPF_JEQ | BPF_K, S_IFCHR, 0, 3);
  LOAD_ARG_LO(dev_arg);
  JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 1, 0);
  DENY;
  RET(SECCOMP_RET_ALLOW);
}

/* unshare(flags) / clone(flags, ...): a new user namespace is denied. */
static void newuser_rule(int nr) {
  if (nr < 0) return;
  JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 4);
  LOAD_ARG_LO(0);
  JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWUSER, 0, 1);
  DENY;
  RET(SECCOMP_RET_ALLOW);
}

/*
 * mount(2) of a new filesystem goes to the supervisor, which looks at its type (a
 * string, out of the filter's reach): procfs and sysfs get vnodefs over them, nfsd and
 * rpc_pipefs are refused. Binds, remounts, moves and propagation changes pass.
 */
#define MOUNT_PASS_FLAGS (MS_BIND | MS_REMOUNT | MS_MOVE | MS_SHARED | MS_PRIVATE | MS_SLAVE | MS_UNBINDABLE)
static void mount_rule(int nr) {
  if (nr < 0) return;
  JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 4);
  LOAD_ARG_LO(3);
  JUMP(BPF_JMP | BPF_JSET | BPF_K, MOUNT_PASS_FLAGS, 0, 1);
  RET(SECCOMP_RET_ALLOW);
  RET(SECCOMP_RET_USER_NOTIF);
}

static void abi_rules(const struct abi *a, int notify) {
  LOAD_NR;
  for (unsigned i = 0; i < sizeof a->denied / sizeof a->denied[0] && a->denied[i]; i++) deny_nr(a->denied[i], SECCOMP_RET_ERRNO | EPERM);
  /* clone3 passes its flags in memory, out of the filter's reach: ENOSYS makes libc fall back to clone. */
  deny_nr(a->clone3, SECCOMP_RET_ERRNO | ENOSYS);
  deny_nr(a->bpf, notify ? SECCOMP_RET_USER_NOTIF : SECCOMP_RET_ERRNO | EPERM);
  if (notify) deny_nr(a->sysinfo, SECCOMP_RET_USER_NOTIF);
  if (notify) mount_rule(a->mount);
  mknod_rule(a->mknod, 1, 2);
  mknod_rule(a->mknodat, 2, 3);
  newuser_rule(a->unshare);
  newuser_rule(a->clone);
  RET(SECCOMP_RET_ALLOW);
}

#ifndef __NR_mknod
#define __NR_mknod -1
#endif
#ifndef __NR_kexec_file_load
#define __NR_kexec_file_load -1
#endif
#ifndef __NR_uselib
#define __NR_uselib -1
#endif
#ifndef __NR_iopl
#define __NR_iopl -1
#endif
#ifndef __NR_ioperm
#define __NR_ioperm -1
#endif
#ifndef __NR_create_module
#define __NR_create_module -1
#endif
#ifndef __NR_get_kernel_syms
#define __NR_get_kernel_syms -1
#endif
#ifndef __NR_query_module
#define __NR_query_module -1
#endif
#ifndef __NR_nfsservctl
#define __NR_nfsservctl -1
#endif
#ifndef __NR__sysctl
#define __NR__sysctl -1
#endif

/* The list a vNode denies beyond the kernel's own checks (docs/seccomp.md). */
static const struct abi native = {
  __NR_mknod, __NR_mknodat, __NR_unshare, __NR_clone, __NR_clone3, __NR_sysinfo, __NR_bpf, __NR_mount,
  {__NR_init_module, __NR_finit_module, __NR_delete_module, __NR_create_module, __NR_get_kernel_syms,
   __NR_query_module, __NR_kexec_load, __NR_kexec_file_load, __NR_open_by_handle_at, __NR_perf_event_open,
   __NR_lookup_dcookie, __NR_acct, __NR_swapon, __NR_swapoff, __NR_syslog, __NR_iopl, __NR_ioperm,
   __NR_uselib, __NR_userfaultfd, __NR_nfsservctl, __NR__sysctl, 0},
};

#if defined(__x86_64__)
/* i386 programs on an x86_64 kernel: numbers from asm/unistd_32.h. */
static const struct abi i386 = {
  14, 297, 310, 120, 435, 116, 357, 21,
  {128, 350, 129, 127, 130, 167, 283, 342, 336, 253, 51, 87, 115, 103, 110, 101, 86, 374, 169, 149,
   166 /* vm86 */, 113 /* vm86old */, 0},
};
#endif

static void build_filter(int notify) {
  STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
#if defined(__x86_64__)
  /* jump over the native section to the i386 one; other ABIs (x32) are refused */
  unsigned native_at = len;
  JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 0, 0);
  JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_I386, 0, 0);
  DENY;
  prog[native_at].jt = (unsigned char)(len - native_at - 1);
  LOAD_NR;
  /* the x32 ABI shares the x86_64 arch value and sets bit 30 of the number */
  JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1);
  DENY;
  abi_rules(&native, notify);
  if (len - native_at - 2 > 255) {
    fprintf(stderr, "vnode-seccomp: native section too long for a BPF jump\n");
    exit(125);
  }
  prog[native_at + 1].jt = (unsigned char)(len - native_at - 2);
  abi_rules(&i386, notify);
#else
  JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0);
  DENY;
  abi_rules(&native, notify);
#endif
}

#endif
