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

#ifndef MOVE_MOUNT_T_EMPTY_PATH
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#define FSOPEN_CLOEXEC_ 0x1
#define FSCONFIG_SET_FLAG_ 0
#define FSCONFIG_SET_STRING_ 1
#define FSCONFIG_CMD_CREATE_ 6
#define FSMOUNT_CLOEXEC_ 0x1

#define MAX_OVERLAYS 128

/* mount(2)'s per-mount flags as mount attributes (fsmount(2)) */
static unsigned attrs_of(unsigned long flags) {
  unsigned a = 0;
  if (flags & MS_RDONLY) a |= 0x1;      /* MOUNT_ATTR_RDONLY */
  if (flags & MS_NOSUID) a |= 0x2;      /* MOUNT_ATTR_NOSUID */
  if (flags & MS_NODEV) a |= 0x4;       /* MOUNT_ATTR_NODEV */
  if (flags & MS_NOEXEC) a |= 0x8;      /* MOUNT_ATTR_NOEXEC */
  if (flags & MS_NOATIME) a |= 0x10;    /* MOUNT_ATTR_NOATIME */
  if (flags & MS_STRICTATIME) a |= 0x20;
  if (flags & MS_NODIRATIME) a |= 0x80;
  return a;
}

/* A detached mount of a new FSTYPE filesystem (fsopen/fsconfig/fsmount), with mount(2)'s
 * options: DATA's comma-separated "key" and "key=value" become flags and strings. */
static int new_mount(const char *fstype, const char *source, unsigned long flags, const char *data) {
  int fs = (int)syscall(SYS_fsopen, fstype, FSOPEN_CLOEXEC_);
  if (fs < 0) return -1;
  if (source[0] && syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING_, "source", source, 0) < 0) return -1;
  char opts[4096];
  snprintf(opts, sizeof opts, "%s", data);
  for (char *save = NULL, *o = strtok_r(opts, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(o, '=');
    if (eq) *eq = 0;
    if (syscall(SYS_fsconfig, fs, eq ? FSCONFIG_SET_STRING_ : FSCONFIG_SET_FLAG_, o, eq ? eq + 1 : NULL, 0) < 0) return -1;
  }
  if (syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE_, NULL, NULL, 0) < 0) return -1;
  int m = (int)syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC_, attrs_of(flags));
  close(fs);
  return m;
}

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
  /* The filesystem is made here, still in the host's mount namespace, and only then moved
   * into the caller's: the kernel's "mount too revealing" check (a procfs or sysfs mount in
   * a mount namespace of a user namespace needs a fully visible one there, no less
   * restrictive) is made against the mounter's mount namespace. In the caller's, with
   * vnodefs over /proc and /sys, it refuses a read-write sysfs (docker run --privileged)
   * even to host root. */
  int mfd = new_mount(fstype, source, flags, data);
  if (mfd < 0) _exit(fail("mount", target));
  if (setns(mnt, CLONE_NEWNS) < 0) _exit(fail("setns mnt", NULL));
  if (fchdir(root) < 0 || chroot(".") < 0) _exit(fail("entering the caller's root", NULL));
  if (fchdir(cwd) < 0) _exit(fail("entering the caller's cwd", NULL));
  /* through a descriptor: attach on the caller's file itself */
  int moved = tfd >= 0
    ? (int)syscall(SYS_move_mount, mfd, "", tfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH)
    : (int)syscall(SYS_move_mount, mfd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
  if (moved < 0) _exit(fail("mount", target));
  int dir = mfd;
  for (int i = 0; i < overlays; i++) {
    const char *rel = argv[8 + 2 * i];
    if (faccessat(dir, rel, F_OK, AT_SYMLINK_NOFOLLOW) < 0) continue; /* not on this kernel */
    if (syscall(SYS_move_mount, tree[i], "", dir, rel, MOVE_MOUNT_F_EMPTY_PATH) < 0) {
      int e = fail("move_mount over", rel);
      /* never leave a half-covered mount behind */
      char self[64];
      snprintf(self, sizeof self, "/proc/self/fd/%d", mfd);
      umount2(self, MNT_DETACH);
      _exit(e);
    }
  }
  _exit(0);
}
