/*
 * syscall-probe: tries each named syscall once with harmless arguments and prints
 * "<name>=OK" or "<name>=<ERRNO NAME>", one per line, so tests can check the exact
 * errno a refusal gives. Static: it runs in the test image next to busybox.
 *
 * usage: syscall-probe NAME...   (names: see the table below)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

/* Runs a child made by a raw clone/clone3 to completion; returns the call's result. */
static long reap(long pid) {
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid((pid_t)pid, NULL, __WALL);
  return pid < 0 ? -1 : 0;
}

static long probe(const char *n) {
  if (!strcmp(n, "bpf")) {
    struct bpf_insn prog[2] = {{.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0}, {.code = BPF_JMP | BPF_EXIT}};
    union bpf_attr a;
    memset(&a, 0, sizeof a);
    a.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    a.insn_cnt = 2;
    a.insns = (uintptr_t)prog;
    a.license = (uintptr_t) "GPL";
    return syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
  }
  if (!strcmp(n, "init_module")) return syscall(SYS_init_module, "\177ELF", 4UL, "");
  if (!strcmp(n, "finit_module")) {
    int fd = open("/bin/busybox", O_RDONLY);
    return syscall(SYS_finit_module, fd, "", 0);
  }
  if (!strcmp(n, "delete_module")) return syscall(SYS_delete_module, "vnode_probe", O_NONBLOCK);
  if (!strcmp(n, "kexec_load")) return syscall(SYS_kexec_load, 0UL, 0UL, NULL, 0UL);
  if (!strcmp(n, "open_by_handle_at")) {
    struct { unsigned int bytes; int type; unsigned char h[8]; } fh = {8, 1, {0}};
    return syscall(SYS_open_by_handle_at, AT_FDCWD, &fh, O_RDONLY);
  }
  if (!strcmp(n, "perf_event_open")) {
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.exclude_kernel = 1;
    return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0UL);
  }
  if (!strcmp(n, "userfaultfd")) return syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
  if (!strcmp(n, "syslog")) return klogctl(10 /* SYSLOG_ACTION_SIZE_BUFFER */, NULL, 0);
  if (!strcmp(n, "acct")) return acct(NULL);
  if (!strcmp(n, "swapoff")) return swapoff("/nonexistent");
  if (!strcmp(n, "unshare_user")) return unshare(CLONE_NEWUSER);
  if (!strcmp(n, "unshare_mount")) return unshare(CLONE_NEWNS);
  if (!strcmp(n, "clone_user")) return reap(syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0));
  if (!strcmp(n, "clone_plain")) return reap(syscall(SYS_clone, SIGCHLD, 0, 0, 0, 0));
  if (!strcmp(n, "clone3")) {
    struct clone_args a;
    memset(&a, 0, sizeof a);
    a.exit_signal = SIGCHLD;
    return reap(syscall(SYS_clone3, &a, sizeof a));
  }
  if (!strcmp(n, "mknod_chr")) return mknod("/tmp/probe-chr", S_IFCHR | 0600, makedev(1, 3));
  if (!strcmp(n, "mknod_blk")) return mknod("/tmp/probe-blk", S_IFBLK | 0600, makedev(8, 0));
  if (!strcmp(n, "mknodat_blk")) return mknodat(AT_FDCWD, "/tmp/probe-blk2", S_IFBLK | 0600, makedev(8, 0));
  if (!strcmp(n, "mknod_fifo")) return mknod("/tmp/probe-fifo", S_IFIFO | 0600, 0);
  if (!strcmp(n, "mknod_sock")) return mknod("/tmp/probe-sock", S_IFSOCK | 0600, 0);
  if (!strcmp(n, "mknod_whiteout")) {
    /* on a tmpfs of its own: overlayfs (a container's rootfs) refuses whiteouts itself */
    mkdir("/tmp/probe-wmnt", 0700);
    if (mount("probe", "/tmp/probe-wmnt", "tmpfs", 0, NULL) < 0) return -1;
    long r = mknod("/tmp/probe-wmnt/wh", S_IFCHR | 0600, makedev(0, 0));
    int e = errno;
    umount("/tmp/probe-wmnt");
    errno = e;
    return r;
  }
  if (!strcmp(n, "mount_tmpfs")) {
    mkdir("/tmp/probe-mnt", 0700);
    long r = mount("probe", "/tmp/probe-mnt", "tmpfs", 0, NULL);
    if (r == 0) umount("/tmp/probe-mnt");
    return r;
  }
  if (!strcmp(n, "sysinfo")) {
    struct sysinfo s;
    long r = sysinfo(&s);
    if (r == 0) printf("sysinfo.totalram=%llu\nsysinfo.uptime=%ld\nsysinfo.procs=%u\n", (unsigned long long)s.totalram * s.mem_unit, s.uptime, s.procs);
    return r;
  }
  errno = EINVAL;
  fprintf(stderr, "syscall-probe: unknown probe %s\n", n);
  return -2;
}

int main(int argc, char **argv) {
  for (int i = 1; i < argc; i++) {
    errno = 0;
    long r = probe(argv[i]);
    if (r == -2) return 2;
    if (r < 0) printf("%s=%s\n", argv[i], strerrorname_np(errno));
    else printf("%s=OK\n", argv[i]);
    fflush(stdout);
  }
  return 0;
}
