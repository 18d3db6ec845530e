/*
 * vnode-init: PID 1 of a vNode.
 *
 * Started by the manager; clones the vNode's init into new user, PID, mount, IPC,
 * UTS, network and cgroup namespaces, writes the ID maps, prints the init's host PID
 * and exits. The init then lives as long as the vNode, independent of the manager:
 *   - it reaps every process reparented to it (container inits and exec processes,
 *     whose OCI runtime ran inside this PID namespace) and appends one line per exit
 *     to the exit log it inherited as fd 3: "<pid-in-vnode> <wait-status> <sec>.<nsec>";
 *     the manager reads that log, so exit codes survive a manager crash;
 *   - it holds no view of the host's mounts (it pivots into an empty tmpfs), so it
 *     pins no container's rootfs.
 * It is C, not Node.js, because one runs per vNode and must cost almost no memory.
 *
 * usage: vnode-init --uid-base N --gid-base N --size N   (fd 3: exit log, O_APPEND)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define EXIT_LOG_FD 3
#define STACK_SIZE (64 * 1024)

static int sync_pipe[2];

static void die(const char *what) {
  fprintf(stderr, "vnode-init: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(path);
  size_t len = strlen(text);
  if (write(fd, text, len) != (ssize_t)len) die(path);
  close(fd);
}

static void loopback_up(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return;
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0) {
    ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
    ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  close(s);
}

/* Leave the copy of the host's mount table behind: an empty tmpfs becomes "/". */
static void drop_host_mounts(void) {
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) die("make / private");
  if (mount("vnode-init", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0500") < 0) die("mount tmpfs");
  if (chdir("/tmp") < 0) die("chdir");
  if (syscall(SYS_pivot_root, ".", ".") < 0) die("pivot_root");
  if (umount2(".", MNT_DETACH) < 0) die("umount old root");
  if (chdir("/") < 0) die("chdir /");
}

static void on_signal(int sig) { (void)sig; }

static void record_exit(pid_t pid, int status) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  char line[96];
  int n = snprintf(line, sizeof line, "%d %d %lld.%09ld\n", (int)pid, status, (long long)ts.tv_sec, ts.tv_nsec);
  /* One write on an O_APPEND descriptor: a line is never torn. */
  if (write(EXIT_LOG_FD, line, (size_t)n) < 0) { /* nowhere to report it */ }
}

/* The vNode's hostname (--hostname): what its hostNetwork pods see as theirs. */
static const char *vnode_hostname;

static int vnode_init(void *arg) {
  (void)arg;
  char go;
  close(sync_pipe[1]);
  if (read(sync_pipe[0], &go, 1) != 1) _exit(1); /* the parent died before mapping us */
  close(sync_pipe[0]);

  /* Become root of the new user namespace: before this we still carry host root's
   * credentials, which must not leak into the vNode. */
  if (setgroups(0, NULL) < 0) die("setgroups");
  if (setresgid(0, 0, 0) < 0) die("setresgid");
  if (setresuid(0, 0, 0) < 0) die("setresuid");
  prctl(PR_SET_NAME, "vnode-init", 0, 0, 0);
  if (vnode_hostname && sethostname(vnode_hostname, strlen(vnode_hostname)) < 0) die("sethostname");
  drop_host_mounts();
  loopback_up();

  int devnull = open("/dev/null", O_RDWR); /* absent after pivot: fine, fall back to closing */
  for (int fd = 0; fd < 3; fd++) {
    if (devnull >= 0) dup2(devnull, fd); else close(fd);
  }

  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  /* An init drops signals whose action is the default: install handlers, then wait
   * for them synchronously. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGCHLD, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGINT, &sa, NULL);
  sigprocmask(SIG_BLOCK, &set, NULL);

  for (;;) {
    int status;
    pid_t pid;
    while ((pid = waitpid(-1, &status, WNOHANG | __WALL)) > 0) record_exit(pid, status);
    siginfo_t info;
    int sig = sigwaitinfo(&set, &info);
    if (sig == SIGTERM || sig == SIGINT) {
      /* Stopping the vNode: everything in it goes. */
      kill(-1, SIGKILL);
      while ((pid = waitpid(-1, &status, __WALL)) > 0) record_exit(pid, status);
      _exit(0);
    }
  }
}

int main(int argc, char **argv) {
  unsigned long uid_base = 0, gid_base = 0, size = 65536;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--uid-base")) uid_base = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--gid-base")) gid_base = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--size")) size = strtoul(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--hostname")) vnode_hostname = argv[i + 1];
    else { fprintf(stderr, "vnode-init: unknown option %s\n", argv[i]); return 2; }
  }
  if (uid_base < 65536 || gid_base < 65536 || size == 0) {
    fprintf(stderr, "vnode-init: --uid-base and --gid-base must be >= 65536 and --size > 0\n");
    return 2;
  }
  if (vnode_hostname && (strlen(vnode_hostname) == 0 || strlen(vnode_hostname) > 64)) {
    fprintf(stderr, "vnode-init: --hostname must be 1 to 64 characters\n");
    return 2;
  }
  if (fcntl(EXIT_LOG_FD, F_GETFD) < 0) {
    fprintf(stderr, "vnode-init: fd 3 must be the exit log (opened O_APPEND)\n");
    return 2;
  }
  if (pipe2(sync_pipe, O_CLOEXEC) < 0) die("pipe");

  char *stack = malloc(STACK_SIZE);
  if (!stack) die("malloc");
  int flags = CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET | CLONE_NEWCGROUP | SIGCHLD;
  pid_t child = clone(vnode_init, stack + STACK_SIZE, flags, NULL);
  if (child < 0) die("clone");
  close(sync_pipe[0]);

  char path[64], map[96];
  snprintf(map, sizeof map, "0 %lu %lu\n", uid_base, size);
  snprintf(path, sizeof path, "/proc/%d/uid_map", (int)child);
  write_file(path, map);
  snprintf(map, sizeof map, "0 %lu %lu\n", gid_base, size);
  snprintf(path, sizeof path, "/proc/%d/gid_map", (int)child);
  write_file(path, map);
  if (write(sync_pipe[1], "g", 1) != 1) die("sync");
  close(sync_pipe[1]);

  printf("%d\n", (int)child);
  fflush(stdout);
  return 0;
}
