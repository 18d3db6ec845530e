/*
 * vnode-bind: an OCI createContainer hook that bind-mounts vnodefs files where runc
 * will not: anywhere in /proc outside the few paths LXCFS uses (/proc/sys/..., the
 * pressure files). It runs in the container's mount namespace after the runtime's own
 * mounts and before pivot_root, so destinations are host paths below the rootfs.
 *
 * usage: vnode-bind MODE SRC DST [MODE SRC DST ...]   (MODE: ro | rw | rro)
 * A destination the kernel does not have (no PSI, an unknown sysctl) is skipped.
 *
 * MODE rro (SRC is "-"): makes the mount at DST and every mount below it read-only
 * (mount_setattr AT_RECURSIVE), for CRI's recursive read-only mounts: the runtime's
 * own "ro" covers the top mount only, and vnode does not rely on the runtime knowing
 * "rro" (src/oci/recursive-read-only.ts). A DST
 * that is missing is an error here: its mount is what was asked to be read-only.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#define VNODE_AT_RECURSIVE 0x8000
#define VNODE_MOUNT_ATTR_RDONLY 0x1

struct vnode_mount_attr {
  uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static int recursive_read_only(const char *dst) {
  struct vnode_mount_attr attr = {.attr_set = VNODE_MOUNT_ATTR_RDONLY};
  if (syscall(SYS_mount_setattr, AT_FDCWD, dst, VNODE_AT_RECURSIVE, &attr, sizeof attr) < 0) {
    fprintf(stderr, "vnode-bind: recursive read-only %s: %s\n", dst, strerror(errno));
    return 1;
  }
  return 0;
}

int main(int argc, char **argv) {
  if ((argc - 1) % 3 != 0) {
    fprintf(stderr, "vnode-bind: usage: vnode-bind MODE SRC DST [MODE SRC DST ...]\n");
    return 2;
  }
  for (int i = 1; i + 2 < argc; i += 3) {
    const char *mode = argv[i], *src = argv[i + 1], *dst = argv[i + 2];
    if (!strcmp(mode, "rro")) {
      if (recursive_read_only(dst)) return 1;
      continue;
    }
    if (access(dst, F_OK) != 0) continue;
    if (mount(src, dst, NULL, MS_BIND, NULL) < 0) {
      fprintf(stderr, "vnode-bind: bind %s on %s: %s\n", src, dst, strerror(errno));
      return 1;
    }
    unsigned long flags = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC;
    if (!strcmp(mode, "ro")) flags |= MS_RDONLY;
    if (mount(NULL, dst, NULL, flags, NULL) < 0) {
      fprintf(stderr, "vnode-bind: remount %s %s: %s\n", dst, mode, strerror(errno));
      return 1;
    }
  }
  return 0;
}
