/*
 * vnode-runtime-exec: how the manager runs the OCI runtime for a vNode, in one exec.
 *
 *   vnode-runtime-exec [--seccomp | --seccomp-handoff-fd N] [--pid-ns-of PID [--read-empty FILE]...] -- RUNC ARGS...
 *
 * --seccomp installs vnode's seccomp filter (seccomp-filter.h): runc and every process
 *   of the container (or exec) it starts inherit it, and runc applies the pod's own
 *   profile on top, so the two stack. Host root holds CAP_SYS_ADMIN, so no_new_privs
 *   is not needed (and would reach the container).
 * --seccomp-handoff-fd N does the same with a user-notification listener for the
 *   manager's supervisor: the listener's number is written to fd N as "<fd>\n"; the
 *   manager copies it (pidfd_getfd) and answers one byte; then the listener and fd N are
 *   closed, so neither the runtime nor the container ever holds it.
 * --pid-ns-of PID enters the PID namespace of PID (the vNode's init) and, in a child
 *   (only children enter it), a private mount namespace whose /proc belongs to it: runc
 *   resolves /proc/<its own pid>, and a pod's PID namespace becomes a child of the
 *   vNode's. This process waits and exits with the child's status. (It replaces
 *   `nsenter --pid -- unshare --mount --mount-proc`, two execs of dynamic binaries per
 *   runtime call: ~2.7 ms each time, bench/exec-overhead.ts.)
 * --read-empty FILE (with --pid-ns-of): in that private mount namespace FILE reads empty
 *   (/dev/null is bound over it). The manager hides a hybrid host's
 *   /sys/fs/cgroup/unified/cgroup.controllers from crun this way: crun refuses a hybrid
 *   layout whose cgroup2 hierarchy lists a controller (src/manager/oci-runtime.ts,
 *   docs/runtime.md "Which OCI runtime"). Nothing outside the runtime's namespace sees it.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "seccomp-filter.h"

static void usage(void) {
  fprintf(stderr, "usage: vnode-runtime-exec [--seccomp | --seccomp-handoff-fd N] [--pid-ns-of PID [--read-empty FILE]...] -- COMMAND [ARG...]\n");
  exit(125);
}

static int fail(const char *what) {
  fprintf(stderr, "vnode-runtime-exec: %s: %s\n", what, strerror(errno));
  return 125;
}

/* Installs the filter; with a handoff fd, hands its listener to the manager first. */
static int install_filter(int handoff) {
  build_filter(handoff >= 0);
  struct sock_fprog fprog = {.len = (unsigned short)len, .filter = prog};
  unsigned flags = handoff >= 0 ? SECCOMP_FILTER_FLAG_NEW_LISTENER : 0;
  long listener = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, flags, &fprog);
  if (listener < 0) return fail("installing the seccomp filter");
  if (handoff < 0) return 0;
  char line[32];
  int n = snprintf(line, sizeof line, "%ld\n", listener);
  char ack;
  errno = 0;
  if (write(handoff, line, (size_t)n) != n || read(handoff, &ack, 1) != 1) {
    if (!errno) errno = EPIPE;
    return fail("handing the seccomp listener to the manager");
  }
  close((int)listener);
  close(handoff);
  return 0;
}

#define MAX_EMPTY 8

/*
 * Joins the PID namespace of `pid`; the child gets a private mount namespace with its
 * own /proc, in which each of `empty` reads empty.
 */
static int enter_pid_ns(int pid, const char **empty, int n_empty) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/ns/pid", pid);
  int ns = open(path, O_RDONLY | O_CLOEXEC);
  if (ns < 0) return fail(path);
  if (setns(ns, CLONE_NEWPID) < 0) return fail("setns pid");
  close(ns);
  pid_t child = fork();
  if (child < 0) return fail("fork");
  if (child > 0) {
    int st;
    while (waitpid(child, &st, 0) < 0)
      if (errno != EINTR) return fail("waitpid");
    exit(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
  }
  if (unshare(CLONE_NEWNS) < 0) return fail("unshare mount namespace");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0) return fail("making / private");
  if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) return fail("mounting /proc");
  for (int i = 0; i < n_empty; i++)
    if (mount("/dev/null", empty[i], NULL, MS_BIND, NULL) < 0) {
      fprintf(stderr, "vnode-runtime-exec: binding /dev/null over %s: %s\n", empty[i], strerror(errno));
      return 125;
    }
  return 0;
}

int main(int argc, char **argv) {
  int seccomp = 0, handoff = -1, pidns_of = 0, n_empty = 0, i = 1;
  const char *empty[MAX_EMPTY];
  for (; i < argc; i++) {
    if (!strcmp(argv[i], "--seccomp")) seccomp = 1;
    else if (!strcmp(argv[i], "--seccomp-handoff-fd") && i + 1 < argc) seccomp = 1, handoff = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--pid-ns-of") && i + 1 < argc) pidns_of = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--read-empty") && i + 1 < argc && n_empty < MAX_EMPTY) empty[n_empty++] = argv[++i];
    else if (!strcmp(argv[i], "--")) {
      i++;
      break;
    } else usage();
  }
  if (i >= argc || (n_empty > 0 && pidns_of <= 0)) usage();
  if (seccomp && install_filter(handoff) != 0) return 125;
  if (pidns_of > 0 && enter_pid_ns(pidns_of, empty, n_empty) != 0) return 125;
  execvp(argv[i], argv + i);
  fprintf(stderr, "vnode-runtime-exec: exec %s: %s\n", argv[i], strerror(errno));
  return 127;
}
