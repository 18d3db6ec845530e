/*
 * vnode-bind: an OCI createContainer hook that bind-mounts vnodefs files where runc
 * will not: anywhere in /proc outside the few paths LXCFS uses (/proc/sys/..., the
 * pressure files). It runs in the container's mount namespace after the runtime's own
 * mounts and before pivot_root, so destinations are host paths below the rootfs.
 *
 * usage: vnode-bind MODE SRC DST [MODE SRC DST ...]   (MODE: ro | rw)
 * A destination the kernel does not have (no PSI, an unknown sysctl) is skipped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if ((argc - 1) % 3 != 0) {
    fprintf(stderr, "vnode-bind: usage: vnode-bind MODE SRC DST [MODE SRC DST ...]\n");
    return 2;
  }
  for (int i = 1; i + 2 < argc; i += 3) {
    const char *mode = argv[i], *src = argv[i + 1], *dst = argv[i + 2];
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
