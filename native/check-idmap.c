// check-idmap: runs vnode's ID-mapped rootfs technique (src/manager/rootfs.ts,
// src/sys/mount.ts) against the running kernel and prints one line per step:
//   PASS name
//   FAIL name: reason
// Exit status 0 only if every step passes.
//
// Usage: check-idmap DIR      (DIR must be on ext4; scratch files go below it)
//
// What it does, in a private mount namespace (nothing leaks to the caller's):
//   - builds two overlay lower layers (files owned by 0:0, like an unpacked image),
//     an empty upper and work dir, a pod file, a pod dir and a tmpfs;
//   - forks a child that unshares a user namespace; the parent writes its maps
//     ("0 1048576 65536" for uids and gids), as vnode-manager does for a vNode;
//   - ID-maps each lower layer (open_tree(OPEN_TREE_CLONE|AT_RECURSIVE) +
//     mount_setattr(MOUNT_ATTR_IDMAP, userns fd) + move_mount), chowns upper and work
//     to 1048576 and mounts overlay over them as host root;
//   - ID-maps the pod file, the pod dir and the tmpfs directly (a direct ID-mapped
//     mount reverses the mapping on write: the container's root writes files owned
//     by 0 on disk, unlike the overlay's upper dir, which holds 1048576);
//   - for comparison, the alternatives that need no ID-mapped tmpfs: a tmpfs mounted
//     with uid=/gid= of the range's root, and a plain bind of a host-root tmpfs;
//   - the child (setresuid/setresgid 0 inside) checks what it sees and writes;
//   - the parent checks what landed on disk.
// A step that cannot run because an earlier mount failed is reported as
// "FAIL name: not run: <step> failed", so every kernel prints the same step names.
//
// Build: gcc -static -O2 -Wall -o check-idmap native/check-idmap.c
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

// The new mount API has the same syscall numbers on every architecture.
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#define C_OPEN_TREE_CLONE 1
#define C_AT_RECURSIVE 0x8000
#define C_AT_EMPTY_PATH 0x1000
#define C_MOVE_MOUNT_F_EMPTY_PATH 0x4
#define C_MOUNT_ATTR_IDMAP 0x100000
#define EXT4_MAGIC 0xEF53
#define TMPFS_MAGIC_ 0x01021994

#define RANGE 1048576u // first host ID of the vNode's range
#define RANGE_LEN 65536u

struct c_mount_attr {
  uint64_t attr_set;
  uint64_t attr_clr;
  uint64_t propagation;
  uint64_t userns_fd;
};

static int failures;
static char base[1024];

static void out(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  fflush(stdout);
}

static void pass(const char *name) { out("PASS %s\n", name); }

static void fail(const char *name, const char *fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  out("FAIL %s: %s\n", name, buf);
  failures++;
}

// Steps that cannot run because the mount they need could not be made.
static void not_run(const char *const *names, const char *why) {
  for (; *names; names++) fail(*names, "not run: %s failed", why);
}

static const char *const OVERLAY_INSIDE[] = {"inside-lower-file-owner", "inside-bottom-layer-file-owner",
  "inside-lower-dir-owner", "inside-root-dir-owner", "inside-read-lower", "inside-create-file",
  "inside-create-root-file", "inside-copy-up", "inside-chmod-copy-up", "inside-mkdir", "inside-chown",
  "inside-unlink-lower", "inside-rename", NULL};
static const char *const OVERLAY_DISK[] = {"disk-new-file-owner", "disk-chowned-file-owner", "disk-copy-up-owner",
  "disk-copy-up-content", "disk-chmod-copy-up-owner", "disk-mkdir-owner", "disk-whiteout", "disk-lower-untouched", NULL};
static const char *const POD_FILE_INSIDE[] = {"inside-pod-file-owner", "inside-pod-file-write", NULL};
static const char *const POD_FILE_DISK[] = {"disk-pod-file-owner", "disk-pod-file-content", NULL};
static const char *const POD_DIR_INSIDE[] = {"inside-pod-dir-owner", "inside-pod-dir-file-owner", "inside-pod-dir-create", NULL};
static const char *const POD_DIR_DISK[] = {"disk-pod-dir-new-file-owner", "host-root-eoverflow", NULL};
static const char *const TMPFS_IDMAP_INSIDE[] = {"inside-tmpfs-idmap-owner", "inside-tmpfs-idmap-create", NULL};
static const char *const TMPFS_IDMAP_DISK[] = {"disk-tmpfs-idmap-owner", NULL};
static const char *const TMPFS_UID_INSIDE[] = {"inside-tmpfs-uidopt-owner", "inside-tmpfs-uidopt-create", NULL};
static const char *const TMPFS_UID_DISK[] = {"disk-tmpfs-uidopt-owner", NULL};
static const char *const TMPFS_BIND_INSIDE[] = {"inside-tmpfs-plain-bind-owner", "inside-tmpfs-plain-bind-read-0644",
  "inside-tmpfs-plain-bind-0600-denied", NULL};

static const char *errname(int e) {
  switch (e) {
  case EPERM: return "EPERM";
  case ENOENT: return "ENOENT";
  case EACCES: return "EACCES";
  case EINVAL: return "EINVAL";
  case EOVERFLOW: return "EOVERFLOW";
  case ENOSYS: return "ENOSYS";
  case EBADF: return "EBADF";
  case ENODEV: return "ENODEV";
  case EROFS: return "EROFS";
  case EXDEV: return "EXDEV";
  case EBUSY: return "EBUSY";
  case EEXIST: return "EEXIST";
  case ENOTDIR: return "ENOTDIR";
  case EOPNOTSUPP: return "EOPNOTSUPP";
  default: return "errno";
  }
}

// "EINVAL (Invalid argument) at open_tree"
static const char *errtext(int e, const char *what) {
  static char buf[256];
  snprintf(buf, sizeof buf, "%s %d (%s) at %s", errname(e), e, strerror(e), what);
  return buf;
}

static void path(char *dst, const char *rel) { snprintf(dst, 4096, "%s/%s", base, rel); }

static int write_file(const char *p, const char *data, mode_t mode) {
  int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return -1;
  ssize_t n = write(fd, data, strlen(data));
  int e = errno;
  close(fd);
  if (n != (ssize_t)strlen(data)) {
    errno = n < 0 ? e : EIO;
    return -1;
  }
  return 0;
}

static int read_file(const char *p, char *buf, size_t len) {
  int fd = open(p, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = read(fd, buf, len - 1);
  int e = errno;
  close(fd);
  if (n < 0) {
    errno = e;
    return -1;
  }
  buf[n] = 0;
  return 0;
}

// stat `p` and compare owner; reports the step.
static void expect_owner(const char *name, const char *p, uid_t uid, gid_t gid) {
  struct stat st;
  if (lstat(p, &st) != 0) {
    fail(name, "%s", errtext(errno, "lstat"));
    return;
  }
  if (st.st_uid != uid || st.st_gid != gid) {
    fail(name, "%s is %u:%u, want %u:%u", p, (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)uid, (unsigned)gid);
    return;
  }
  pass(name);
}

static void expect_content(const char *name, const char *p, const char *want) {
  char buf[256];
  if (read_file(p, buf, sizeof buf) != 0) {
    fail(name, "%s", errtext(errno, "read"));
    return;
  }
  if (strcmp(buf, want) != 0) {
    fail(name, "%s holds \"%s\", want \"%s\"", p, buf, want);
    return;
  }
  pass(name);
}

// vnode's idmapBind(): an ID-mapped clone of `source` mounted at `target`.
static int idmap_bind(const char *source, const char *target, int userns_fd, const char **where) {
  int tree = (int)syscall(SYS_open_tree, AT_FDCWD, source, C_OPEN_TREE_CLONE | O_CLOEXEC | C_AT_RECURSIVE);
  if (tree < 0) {
    *where = "open_tree";
    return -1;
  }
  struct c_mount_attr attr = {.attr_set = C_MOUNT_ATTR_IDMAP, .userns_fd = (uint64_t)userns_fd};
  if (syscall(SYS_mount_setattr, tree, "", C_AT_EMPTY_PATH | C_AT_RECURSIVE, &attr, sizeof attr) != 0) {
    int e = errno;
    close(tree);
    errno = e;
    *where = "mount_setattr(MOUNT_ATTR_IDMAP)";
    return -1;
  }
  if (syscall(SYS_move_mount, tree, "", AT_FDCWD, target, C_MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    int e = errno;
    close(tree);
    errno = e;
    *where = "move_mount";
    return -1;
  }
  close(tree);
  return 0;
}

// Which mounts were set up, so the child knows what to check.
struct setup {
  int overlay;
  int pod_file;
  int pod_dir;
  int tmpfs_idmap;
  int tmpfs_uid;
  int tmpfs_bind;
};

static int must(const char *what, int rc) {
  if (rc != 0) {
    out("FAIL setup: %s\n", errtext(errno, what));
    exit(2);
  }
  return rc;
}

// ---------------------------------------------------------------- the child

static void child_checks(const struct setup *s) {
  char p[4096], q[4096], buf[256];
  struct stat st;

  // Become root of the user namespace, as the OCI runtime does for a container.
  if (setresgid(0, 0, 0) != 0 || setresuid(0, 0, 0) != 0) {
    fail("userns-root", "%s", errtext(errno, "setresuid(0)"));
    return;
  }
  if (setgroups(0, NULL) != 0) {
    fail("userns-root", "%s", errtext(errno, "setgroups"));
    return;
  }
  if (read_file("/proc/self/uid_map", buf, sizeof buf) != 0) {
    fail("userns-root", "%s", errtext(errno, "read uid_map"));
    return;
  }
  unsigned a, b, c;
  if (sscanf(buf, "%u %u %u", &a, &b, &c) != 3 || a != 0 || b != RANGE || c != RANGE_LEN || getuid() != 0) {
    fail("userns-root", "uid_map \"%s\", uid %u", buf, (unsigned)getuid());
    return;
  }
  pass("userns-root");

  if (s->overlay) {
    // Image files as seen inside: root-owned.
    path(p, "merged/etc/hostname");
    expect_owner("inside-lower-file-owner", p, 0, 0);
    path(p, "merged/bin/tool");
    expect_owner("inside-bottom-layer-file-owner", p, 0, 0);
    path(p, "merged/etc");
    expect_owner("inside-lower-dir-owner", p, 0, 0);
    path(p, "merged");
    expect_owner("inside-root-dir-owner", p, 0, 0);
    path(p, "merged/bin/tool");
    expect_content("inside-read-lower", p, "tool\n");

    // A new file through the overlay.
    path(p, "merged/etc/new-file");
    if (write_file(p, "new\n", 0644) != 0)
      fail("inside-create-file", "%s", errtext(errno, "open(O_CREAT)"));
    else
      expect_owner("inside-create-file", p, 0, 0);

    path(p, "merged/new-root-file");
    if (write_file(p, "new\n", 0644) != 0)
      fail("inside-create-root-file", "%s", errtext(errno, "open(O_CREAT)"));
    else
      expect_owner("inside-create-root-file", p, 0, 0);

    // Copy-up: append to an existing image file.
    path(p, "merged/etc/hostname");
    int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
      fail("inside-copy-up", "%s", errtext(errno, "open(O_WRONLY) of a lower file"));
    } else {
      ssize_t n = write(fd, "child\n", 6);
      int e = errno;
      close(fd);
      if (n != 6)
        fail("inside-copy-up", "%s", errtext(n < 0 ? e : EIO, "write"));
      else
        expect_content("inside-copy-up", p, "image\nchild\n");
    }

    // Metadata-only copy-up (chmod) of a file of the bottom layer.
    path(p, "merged/bin/tool");
    if (chmod(p, 0700) != 0)
      fail("inside-chmod-copy-up", "%s", errtext(errno, "chmod"));
    else if (stat(p, &st) != 0 || (st.st_mode & 07777) != 0700)
      fail("inside-chmod-copy-up", "mode %o after chmod 0700", (unsigned)(st.st_mode & 07777));
    else
      pass("inside-chmod-copy-up");

    path(p, "merged/etc/new-dir");
    if (mkdir(p, 0755) != 0)
      fail("inside-mkdir", "%s", errtext(errno, "mkdir"));
    else
      expect_owner("inside-mkdir", p, 0, 0);

    // chown to a non-root ID of the range (a container user).
    path(p, "merged/etc/new-file");
    if (chown(p, 1000, 1000) != 0)
      fail("inside-chown", "%s", errtext(errno, "chown(1000:1000)"));
    else
      expect_owner("inside-chown", p, 1000, 1000);

    // Deleting an image file creates a whiteout in upper.
    path(p, "merged/etc/motd");
    if (unlink(p) != 0)
      fail("inside-unlink-lower", "%s", errtext(errno, "unlink"));
    else if (lstat(p, &st) == 0 || errno != ENOENT)
      fail("inside-unlink-lower", "file still visible after unlink");
    else
      pass("inside-unlink-lower");

    // Rename within the overlay.
    path(p, "merged/etc/new-file");
    path(q, "merged/etc/renamed-file");
    if (rename(p, q) != 0)
      fail("inside-rename", "%s", errtext(errno, "rename"));
    else
      pass("inside-rename");
  } else {
    not_run(OVERLAY_INSIDE, "overlay-mount");
  }

  if (s->pod_file) {
    path(p, "pod/etc-hosts.mnt");
    expect_owner("inside-pod-file-owner", p, 0, 0);
    int fd = open(p, O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) {
      fail("inside-pod-file-write", "%s", errtext(errno, "open(O_WRONLY)"));
    } else {
      ssize_t n = write(fd, "10.0.0.2 pod\n", 13);
      int e = errno;
      close(fd);
      if (n != 13)
        fail("inside-pod-file-write", "%s", errtext(n < 0 ? e : EIO, "write"));
      else
        pass("inside-pod-file-write");
    }
  } else {
    not_run(POD_FILE_INSIDE, "idmap-pod-file");
  }

  if (s->pod_dir) {
    path(p, "pod/volume.mnt");
    expect_owner("inside-pod-dir-owner", p, 0, 0);
    path(p, "pod/volume.mnt/existing");
    expect_owner("inside-pod-dir-file-owner", p, 0, 0);
    path(p, "pod/volume.mnt/written");
    if (write_file(p, "pod\n", 0644) != 0)
      fail("inside-pod-dir-create", "%s", errtext(errno, "open(O_CREAT)"));
    else
      expect_owner("inside-pod-dir-create", p, 0, 0);
  } else {
    not_run(POD_DIR_INSIDE, "idmap-pod-dir");
  }

  if (s->tmpfs_idmap) {
    path(p, "shm.mnt");
    expect_owner("inside-tmpfs-idmap-owner", p, 0, 0);
    path(p, "shm.mnt/sem.x");
    if (write_file(p, "shm\n", 0600) != 0)
      fail("inside-tmpfs-idmap-create", "%s", errtext(errno, "open(O_CREAT)"));
    else
      expect_owner("inside-tmpfs-idmap-create", p, 0, 0);
  } else {
    not_run(TMPFS_IDMAP_INSIDE, "idmap-tmpfs-dir");
  }

  if (s->tmpfs_uid) {
    path(p, "shm-uid");
    expect_owner("inside-tmpfs-uidopt-owner", p, 0, 0);
    path(p, "shm-uid/sem.y");
    if (write_file(p, "shm\n", 0600) != 0)
      fail("inside-tmpfs-uidopt-create", "%s", errtext(errno, "open(O_CREAT)"));
    else
      expect_owner("inside-tmpfs-uidopt-create", p, 0, 0);
  } else {
    not_run(TMPFS_UID_INSIDE, "tmpfs-uidopt-mount");
  }


  // Without ID-mapped tmpfs (kubelet's secret and projected-token tmpfs on Linux < 6.3),
  // a plain bind is what remains: host root's files show as the overflow ID (65534)
  // and only their "other" permission bits apply.
  if (s->tmpfs_bind) {
    path(p, "secret.mnt/token");
    expect_owner("inside-tmpfs-plain-bind-owner", p, 65534, 65534);
    expect_content("inside-tmpfs-plain-bind-read-0644", p, "token\n");
    path(p, "secret.mnt/key");
    if (read_file(p, buf, sizeof buf) == 0)
      fail("inside-tmpfs-plain-bind-0600-denied", "a 0600 file of host root was readable");
    else if (errno != EACCES)
      fail("inside-tmpfs-plain-bind-0600-denied", "%s", errtext(errno, "open, want EACCES"));
    else
      pass("inside-tmpfs-plain-bind-0600-denied");
  } else {
    not_run(TMPFS_BIND_INSIDE, "tmpfs-plain-bind");
  }
}

// ---------------------------------------------------------------- the parent

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s DIR   (DIR on ext4; scratch space goes below it)\n", argv[0]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  struct utsname u;
  uname(&u);
  out("# check-idmap on Linux %s (%s)\n", u.release, u.machine);

  struct statfs sf;
  if (statfs(argv[1], &sf) != 0) {
    fail("ext4-dir", "%s", errtext(errno, "statfs"));
    return 1;
  }
  if (sf.f_type != EXT4_MAGIC) {
    fail("ext4-dir", "%s is not on ext4 (f_type 0x%lx)", argv[1], (unsigned long)sf.f_type);
    return 1;
  }
  pass("ext4-dir");

  // A private mount namespace: every mount below vanishes with this process.
  must("unshare(CLONE_NEWNS)", unshare(CLONE_NEWNS));
  must("mount(/, MS_REC|MS_PRIVATE)", mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));

  snprintf(base, sizeof base, "%s/check-idmap.XXXXXX", argv[1]);
  if (!mkdtemp(base)) must("mkdtemp", -1);
  // The child (an unmapped host root from its point of view) must traverse it.
  must("chmod", chmod(base, 0755));

  char p[4096], q[4096], r[4096];
  // The image: two layers, everything 0:0 (we are host root).
  const char *dirs[] = {"lower0", "lower0/etc", "lower1", "lower1/etc", "lower1/bin", "l0", "l1", "upper", "work",
                        "merged", "pod", "pod/volume", "pod/volume.mnt", "shm", "shm.mnt", "shm-uid", "secret", "secret.mnt"};
  for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) {
    path(p, dirs[i]);
    must(p, mkdir(p, 0755));
  }
  path(p, "lower0/etc/hostname");
  must(p, write_file(p, "image\n", 0644));
  path(p, "lower0/etc/motd");
  must(p, write_file(p, "motd\n", 0644));
  path(p, "lower1/bin/tool");
  must(p, write_file(p, "tool\n", 0755));
  path(p, "pod/etc-hosts");
  must(p, write_file(p, "127.0.0.1 localhost\n", 0644));
  path(p, "pod/etc-hosts.mnt");
  must(p, write_file(p, "", 0644));
  path(p, "pod/volume/existing");
  must(p, write_file(p, "x\n", 0644));

  // The vNode's user namespace: a child that unshares it and waits.
  int ready[2], go[2];
  must("pipe", pipe2(ready, O_CLOEXEC));
  must("pipe", pipe2(go, O_CLOEXEC));
  struct setup s = {0};
  pid_t pid = fork();
  if (pid < 0) must("fork", -1);
  if (pid == 0) {
    close(ready[0]);
    close(go[1]);
    char c = unshare(CLONE_NEWUSER) == 0 ? 'u' : 'e';
    int e = errno;
    if (write(ready[1], &c, 1) != 1) _exit(101);
    if (c != 'u') {
      fail("userns-child", "%s", errtext(e, "unshare(CLONE_NEWUSER)"));
      _exit(1);
    }
    if (read(go[0], &s, sizeof s) != sizeof s) _exit(101);
    child_checks(&s);
    _exit(failures > 100 ? 100 : failures); // the parent adds them to its count
  }
  close(ready[1]);
  close(go[0]);
  char c = 0;
  if (read(ready[0], &c, 1) != 1 || c != 'u') {
    waitpid(pid, NULL, 0);
    return 1;
  }
  char map[64];
  snprintf(map, sizeof map, "0 %u %u\n", RANGE, RANGE_LEN);
  const char *maps[] = {"uid_map", "gid_map"};
  int mapped = 1;
  for (int i = 0; i < 2; i++) {
    snprintf(p, sizeof p, "/proc/%d/%s", pid, maps[i]);
    if (write_file(p, map, 0) != 0) {
      fail("userns-child", "%s", errtext(errno, maps[i]));
      mapped = 0;
      break;
    }
  }
  if (mapped) pass("userns-child");
  snprintf(p, sizeof p, "/proc/%d/ns/user", pid);
  int userns = open(p, O_RDONLY | O_CLOEXEC);
  if (userns < 0) {
    fail("userns-fd", "%s", errtext(errno, "open /proc/PID/ns/user"));
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return 1;
  }

  // Overlay rootfs: ID-mapped clones of the lower layers, upper/work handed to the range's root.
  const char *where = "";
  int lowers_ok = 1;
  for (int i = 0; i < 2; i++) {
    char name[32];
    snprintf(name, sizeof name, "idmap-lower-layer-%d", i);
    snprintf(p, sizeof p, "%s/lower%d", base, i);
    snprintf(q, sizeof q, "%s/l%d", base, i);
    if (idmap_bind(p, q, userns, &where) != 0) {
      fail(name, "%s", errtext(errno, where));
      lowers_ok = 0;
    } else {
      pass(name);
    }
  }
  path(p, "upper");
  path(q, "work");
  if (chown(p, RANGE, RANGE) != 0 || chown(q, RANGE, RANGE) != 0)
    fail("chown-upper-work", "%s", errtext(errno, "chown"));
  else
    pass("chown-upper-work");
  if (lowers_ok) {
    char opts[4096 * 2];
    snprintf(opts, sizeof opts, "lowerdir=%s/l0:%s/l1,upperdir=%s/upper,workdir=%s/work", base, base, base, base);
    path(p, "merged");
    if (mount("overlay", p, "overlay", 0, opts) != 0) {
      fail("overlay-mount", "%s", errtext(errno, "mount(overlay)"));
    } else {
      pass("overlay-mount");
      s.overlay = 1;
    }
  } else {
    fail("overlay-mount", "not tried: a lower layer could not be ID-mapped");
  }

  // Pod files: a regular file and a directory on ext4, ID-mapped in place.
  path(p, "pod/etc-hosts");
  path(q, "pod/etc-hosts.mnt");
  if (idmap_bind(p, q, userns, &where) != 0) {
    fail("idmap-pod-file", "%s", errtext(errno, where));
  } else {
    pass("idmap-pod-file");
    s.pod_file = 1;
  }
  path(p, "pod/volume");
  path(q, "pod/volume.mnt");
  if (idmap_bind(p, q, userns, &where) != 0) {
    fail("idmap-pod-dir", "%s", errtext(errno, where));
  } else {
    pass("idmap-pod-dir");
    s.pod_dir = 1;
  }

  // /dev/shm: a tmpfs owned by host root, ID-mapped (needs tmpfs FS_ALLOW_IDMAP).
  path(p, "shm");
  if (mount("shm", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=1m") != 0) {
    fail("tmpfs-mount", "%s", errtext(errno, "mount(tmpfs)"));
    fail("idmap-tmpfs-dir", "not run: tmpfs-mount failed");
  } else {
    pass("tmpfs-mount");
    path(q, "shm.mnt");
    if (idmap_bind(p, q, userns, &where) != 0) {
      fail("idmap-tmpfs-dir", "%s", errtext(errno, where));
    } else {
      pass("idmap-tmpfs-dir");
      s.tmpfs_idmap = 1;
    }
  }
  // The alternative that needs no ID-mapped mount: a tmpfs created owned by the range's root.
  path(p, "shm-uid");
  snprintf(r, sizeof r, "mode=1777,size=1m,uid=%u,gid=%u", RANGE, RANGE);
  if (mount("shm", p, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, r) != 0) {
    fail("tmpfs-uidopt-mount", "%s", errtext(errno, "mount(tmpfs,uid=)"));
  } else {
    pass("tmpfs-uidopt-mount");
    s.tmpfs_uid = 1;
  }

  // A kubelet-style secret volume: tmpfs with host-root files, bound without ID-mapping.
  path(p, "secret");
  path(q, "secret.mnt");
  if (mount("secret", p, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0) {
    fail("tmpfs-plain-bind", "%s", errtext(errno, "mount(tmpfs)"));
  } else {
    path(r, "secret/token");
    int ok = write_file(r, "token\n", 0644) == 0;
    path(r, "secret/key");
    ok = ok && write_file(r, "key\n", 0600) == 0;
    if (!ok)
      fail("tmpfs-plain-bind", "%s", errtext(errno, "write secret files"));
    else if (mount(p, q, NULL, MS_BIND | MS_REC, NULL) != 0)
      fail("tmpfs-plain-bind", "%s", errtext(errno, "mount(MS_BIND)"));
    else {
      pass("tmpfs-plain-bind");
      s.tmpfs_bind = 1;
    }
  }

  // Let the child run its checks, then look at what landed on disk.
  if (write(go[1], &s, sizeof s) != sizeof s) must("write(go)", -1);
  close(go[1]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) > 100) fail("child", "exited abnormally (status 0x%x)", status);
  else failures += WEXITSTATUS(status); // already printed by the child

  if (s.overlay) {
    path(p, "upper/new-root-file");
    expect_owner("disk-new-file-owner", p, RANGE, RANGE);
    path(p, "upper/etc/renamed-file");
    expect_owner("disk-chowned-file-owner", p, RANGE + 1000, RANGE + 1000);
    path(p, "upper/etc/hostname");
    expect_owner("disk-copy-up-owner", p, RANGE, RANGE);
    expect_content("disk-copy-up-content", p, "image\nchild\n");
    path(p, "upper/bin/tool");
    expect_owner("disk-chmod-copy-up-owner", p, RANGE, RANGE);
    path(p, "upper/etc/new-dir");
    expect_owner("disk-mkdir-owner", p, RANGE, RANGE);
    path(p, "upper/etc/motd");
    struct stat st;
    if (lstat(p, &st) != 0)
      fail("disk-whiteout", "%s", errtext(errno, "lstat upper/etc/motd"));
    else if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(0, 0))
      fail("disk-whiteout", "upper/etc/motd is not a 0/0 character device (mode %o)", (unsigned)st.st_mode);
    else
      pass("disk-whiteout");
    // The image layers are untouched: same owner, same content.
    path(p, "lower0/etc/hostname");
    path(q, "lower1/bin/tool");
    path(r, "lower0/etc/motd");
    struct stat a, b, m;
    char buf[64];
    if (lstat(p, &a) != 0 || lstat(q, &b) != 0 || lstat(r, &m) != 0 || read_file(p, buf, sizeof buf) != 0)
      fail("disk-lower-untouched", "%s", errtext(errno, "lstat/read lower"));
    else if (a.st_uid || a.st_gid || b.st_uid || b.st_gid || (b.st_mode & 07777) != 0755 || strcmp(buf, "image\n"))
      fail("disk-lower-untouched", "a lower layer changed");
    else
      pass("disk-lower-untouched");
  } else {
    not_run(OVERLAY_DISK, "overlay-mount");
  }

  if (s.pod_file) {
    path(p, "pod/etc-hosts");
    expect_owner("disk-pod-file-owner", p, 0, 0);
    expect_content("disk-pod-file-content", p, "127.0.0.1 localhost\n10.0.0.2 pod\n");
  } else {
    not_run(POD_FILE_DISK, "idmap-pod-file");
  }

  if (s.pod_dir) {
    // Through a direct ID-mapped mount the mapping is reversed on write: the
    // container's root (host 1048576) writes files owned by 0 on disk, like the rest
    // of kubelet's pod files.
    path(p, "pod/volume/written");
    expect_owner("disk-pod-dir-new-file-owner", p, 0, 0);
    // Host root is not mapped in an ID-mapped mount: creating files through it fails.
    path(p, "pod/volume.mnt/by-host-root");
    if (write_file(p, "x", 0644) == 0)
      fail("host-root-eoverflow", "host root could create a file through the ID-mapped mount");
    else if (errno != EOVERFLOW)
      fail("host-root-eoverflow", "%s", errtext(errno, "open(O_CREAT) as host root, want EOVERFLOW"));
    else
      pass("host-root-eoverflow");
  } else {
    not_run(POD_DIR_DISK, "idmap-pod-dir");
  }

  if (s.tmpfs_idmap) {
    path(p, "shm/sem.x");
    expect_owner("disk-tmpfs-idmap-owner", p, 0, 0);
  } else {
    not_run(TMPFS_IDMAP_DISK, "idmap-tmpfs-dir");
  }

  if (s.tmpfs_uid) {
    path(p, "shm-uid/sem.y");
    expect_owner("disk-tmpfs-uidopt-owner", p, RANGE, RANGE);
  } else {
    not_run(TMPFS_UID_DISK, "tmpfs-uidopt-mount");
  }

  // Clean up: the mounts die with the namespace, the scratch files we remove.
  close(userns);
  const char *mnts[] = {"merged", "l0", "l1", "pod/etc-hosts.mnt", "pod/volume.mnt", "shm.mnt", "shm", "shm-uid", "secret.mnt", "secret"};
  for (size_t i = 0; i < sizeof mnts / sizeof *mnts; i++) {
    path(p, mnts[i]);
    umount2(p, MNT_DETACH);
  }
  char cmd[1024 + 16];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", base);
  if (system(cmd) != 0) { /* best effort */ }

  out("# %s: %d failure(s)\n", failures ? "FAILED" : "OK", failures);
  return failures ? 1 : 0;
}
