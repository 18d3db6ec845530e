/*
 * vnode-mount: makes a procfs or sysfs mount for a process of a vNode, with vnodefs
 * over its sensitive files, on behalf of the seccomp supervisor (src/seccomp/).
 *
 * A runtime inside a vNode (docker, runc, `unshare --mount-proc`) mounting a fresh
 * procfs or sysfs would show its containers the host's memory, CPUs and uptime. The
 * supervisor is notified of the mount(2), and runs this helper instead, which:
 *   1. takes a detached copy (open_tree) of every vnodefs file to lay over the new mount,
 *      while it still sees the host's mounts;
 *   2. joins the caller's mount, network and PID namespaces (a fork puts it in the PID
 *      namespace, which a procfs mount takes from its mounter) and its root and cwd, so
 *      the target resolves as it would for the caller;
 *   3. mounts the filesystem with the caller's arguments and moves the vnodefs copies
 *      over it (paths that this kernel's procfs or sysfs lacks are skipped).
 * It exits with 0, or with the errno of the step that failed, for the supervisor to
 * return to the caller.
 *
 * A TARGET of /proc/self/fd/N (or /proc/thread-self/fd/N) is the caller's descriptor N,
 * not ours: crun mounts on a descriptor it opened, so that no symlink in the rootfs can
 * redirect the mount. We open the same file through /proc/PID/fd/N and mount on it.
 *
 * usage: vnode-mount PID FSTYPE SOURCE TARGET FLAGS DATA [SRC REL ...]
 *   FLAGS is mount(2)'s flags in decimal; DATA "" for none; each SRC is a host path of a
 *   vnodefs file or directory, REL its path below the new mount (e.g. meminfo).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE 1
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#endif

#define MAX_OVERLAYS 128

static int open_ns(int pid, const char *ns) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, ns);
  return open(path, O_RDONLY | O_CLOEXEC);
}

static int fail(const char *what, const char *arg) {
  int e = errno ? errno : EINVAL;
  fprintf(stderr, "vnode-mount: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "", strerror(e));
  return e > 255 ? EINVAL : e;
}

int main(int argc, char **argv) {
  if (argc < 7 || (argc - 7) % 2 != 0) {
    fprintf(stderr, "usage: vnode-mount PID FSTYPE SOURCE TARGET FLAGS DATA [SRC REL ...]\n");
    return EINVAL;
  }
  int pid = atoi(argv[1]);
  const char *fstype = argv[2], *source = argv[3], *target = argv[4], *data = argv[6];
  unsigned long flags = strtoul(argv[5], NULL, 10);

  int overlays = (argc - 7) / 2, tree[MAX_OVERLAYS];
  if (overlays > MAX_OVERLAYS) overlays = MAX_OVERLAYS;
  for (int i = 0; i < overlays; i++) {
    tree[i] = (int)syscall(SYS_open_tree, AT_FDCWD, argv[7 + 2 * i], OPEN_TREE_CLONE | O_CLOEXEC);
    if (tree[i] < 0) return fail("open_tree", argv[7 + 2 * i]);
  }
  /* the caller's /proc/self/fd/N: the same file, opened here (see above) */
  int tfd = -1, fdnum = -1;
  char fdpath[80];
  if (sscanf(target, "/proc/self/fd/%d", &fdnum) == 1 || sscanf(target, "/proc/thread-self/fd/%d", &fdnum) == 1) {
    snprintf(fdpath, sizeof fdpath, "/proc/%d/fd/%d", pid, fdnum);
    tfd = open(fdpath, O_PATH | O_CLOEXEC);
    if (tfd < 0) return fail("open", fdpath);
  }
  int mnt = open_ns(pid, "ns/mnt"), net = open_ns(pid, "ns/net"), pidns = open_ns(pid, "ns/pid");
  int root = open_ns(pid, "root"), cwd = open_ns(pid, "cwd");
  if (mnt < 0 || net < 0 || pidns < 0 || root < 0 || cwd < 0) return fail("opening the namespaces of pid", argv[1]);
  if (setns(pidns, CLONE_NEWPID) < 0) return fail("setns pid", NULL);
  pid_t child = fork();
  if (child < 0) return fail("fork", NULL);
  if (child > 0) {
    int st;
    if (waitpid(child, &st, 0) < 0) return fail("waitpid", NULL);
    return WIFEXITED(st) ? WEXITSTATUS(st) : EINTR;
  }
  if (setns(net, CLONE_NEWNET) < 0) _exit(fail("setns net", NULL));
  if (setns(mnt, CLONE_NEWNS) < 0) _exit(fail("setns mnt", NULL));
  if (fchdir(root) < 0 || chroot(".") < 0) _exit(fail("entering the caller's root", NULL));
  if (fchdir(cwd) < 0) _exit(fail("entering the caller's cwd", NULL));
  /* through a descriptor: mount on it, then reach the new mount by its path (reopening
   * the descriptor would give the directory under the mount) */
  char real[PATH_MAX];
  if (tfd >= 0) {
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", tfd);
    ssize_t n = readlink(fdpath, real, sizeof real - 1);
    if (n <= 0 || real[0] != '/') _exit(fail("readlink", fdpath));
    real[n] = 0;
    if (mount(source, fdpath, fstype, flags, data[0] ? data : NULL) < 0) _exit(fail("mount", target));
    target = real;
  } else if (mount(source, target, fstype, flags, data[0] ? data : NULL) < 0) {
    _exit(fail("mount", target));
  }
  int dir = open(target, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) _exit(fail("open", target));
  for (int i = 0; i < overlays; i++) {
    const char *rel = argv[8 + 2 * i];
    if (faccessat(dir, rel, F_OK, AT_SYMLINK_NOFOLLOW) < 0) continue; /* not on this kernel */
    if (syscall(SYS_move_mount, tree[i], "", dir, rel, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
      int e = fail("move_mount over", rel);
      umount2(target, MNT_DETACH); /* never leave a half-covered mount behind */
      _exit(e);
    }
  }
  _exit(0);
}
