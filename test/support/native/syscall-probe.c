/*
 * syscall-probe: tries each named syscall once with harmless arguments and prints
 * "<name>=OK" or "<name>=<ERRNO NAME>", one per line, so tests can check the exact
 * errno a refusal gives. Static: it runs in the test image next to busybox.
 *
 * usage: syscall-probe NAME...   (names: see the table below)
 *        syscall-probe bench MODE N   (bench/syscall-overhead.ts: N iterations of MODE,
 *                                      prints "ns_per_op=<x>"; modes getppid, stat,
 *                                      openclose, cpu)
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
#include <stdlib.h>
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
  if (!strcmp(n, "mount_nfsd") || !strcmp(n, "mount_rpc_pipefs")) {
    mkdir("/tmp/probe-nfs", 0700);
    const char *type = n + strlen("mount_");
    long r = mount(type, "/tmp/probe-nfs", type, 0, NULL);
    if (r == 0) umount("/tmp/probe-nfs");
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

#include <time.h>

static volatile unsigned long sink;

/* One iteration of a benchmark mode: a cheap syscall, a path lookup, an open+close, or pure CPU. */
static int bench_op(const char *mode) {
  if (!strcmp(mode, "getppid")) sink += (unsigned long)syscall(SYS_getppid);
  else if (!strcmp(mode, "stat")) {
    struct stat st;
    sink += (unsigned long)stat("/bin/busybox", &st);
  } else if (!strcmp(mode, "openclose")) {
    int fd = open("/dev/null", O_RDONLY);
    sink += (unsigned long)close(fd);
  } else if (!strcmp(mode, "cpu")) {
    unsigned long x = sink | 1;
    for (int i = 0; i < 1000; i++) x = x * 6364136223846793005UL + 1442695040888963407UL;
    sink = x;
  } else return -1;
  return 0;
}

static int bench(const char *mode, long n) {
  struct timespec a, b;
  if (bench_op(mode) < 0) {
    fprintf(stderr, "syscall-probe: unknown bench mode %s\n", mode);
    return 2;
  }
  clock_gettime(CLOCK_MONOTONIC, &a);
  for (long i = 0; i < n; i++) bench_op(mode);
  clock_gettime(CLOCK_MONOTONIC, &b);
  double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
  printf("ns_per_op=%.2f\n", ns / (double)n);
  return 0;
}

#include <dirent.h>

/*
 * The CVE-2019-5736 pattern: for `seconds`, watch /proc for runc processes (runc exec
 * entering this container's PID namespace) and try to open their executable, which the
 * attack then rewrites. Prints how many were seen and opened, and the errno of a refusal.
 */
static int exe_watch(int seconds) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  int seen = 0, opened = 0, err = 0;
  char tried[4096] = "";
  do {
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
      if (e->d_name[0] < '1' || e->d_name[0] > '9' || strlen(e->d_name) > 10) continue;
      int pid = atoi(e->d_name);
      char path[64], comm[32] = "";
      snprintf(path, sizeof path, "/proc/%d/comm", pid);
      FILE *f = fopen(path, "r");
      if (!f) continue;
      if (!fgets(comm, sizeof comm, f)) comm[0] = 0;
      fclose(f);
      if (strncmp(comm, "runc", 4)) continue;
      char key[40];
      snprintf(key, sizeof key, ",%d,", pid);
      if (strstr(tried, key)) continue;
      if (strlen(tried) + strlen(key) < sizeof tried) strcat(tried, key);
      seen++;
      snprintf(path, sizeof path, "/proc/%d/exe", pid);
      int fd = open(path, O_RDONLY);
      if (fd >= 0) {
        opened++;
        close(fd);
      } else if (errno != ENOENT) err = errno;
    }
    if (d) closedir(d);
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while (now.tv_sec - start.tv_sec < seconds);
  printf("runc_seen=%d\nrunc_exe_opened=%d\nrunc_exe_errno=%s\n", seen, opened, err ? strerrorname_np(err) : "none");
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 4 && !strcmp(argv[1], "bench")) return bench(argv[2], atol(argv[3]));
  if (argc == 3 && !strcmp(argv[1], "exe-watch")) return exe_watch(atoi(argv[2]));
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
