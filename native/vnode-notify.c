/*
 * vnode-notify: waits on every seccomp listener of the manager at once and hands it
 * the notifications to answer (src/seccomp/poller.ts). A listener can only be waited
 * on with poll(2), which the manager's event loop cannot do, and a Node.js worker
 * thread for it would cost the manager ~10 MiB; this costs a few hundred KiB.
 *
 * usage: vnode-notify PENDING_DIR
 *
 * fd 3 is a stream socket to the manager, its parent. Records, little-endian:
 *   manager → here:  int32 op (1 = add), int32 fd,     the manager's listener fd (a copy
 *                    char id[24]                        is taken with pidfd_getfd) and
 *                                                       the id vnode-hold keeps it under
 *   here → manager:  int32 kind, int32 fd, 80 bytes    kind 1: a notification
 *                                                       (struct seccomp_notif) to answer;
 *                                                       kind 2: no task uses the filter
 *                                                       any more (POLLHUP)
 * One answer is made here: a mount(2) of a filesystem type the supervisor does not
 * handle goes on to the kernel at once (runc mounts several for every container, while
 * the manager is busy starting it). EOF on fd 3 (the manager is gone) ends this helper;
 * the manager's own copies are what the next manager gets back from vnode-hold.
 *
 * A notification received here cannot be received again: if the manager died before
 * answering it, its caller would wait for good. So each one is written first to
 * PENDING_DIR/<listener id>.<notification id> (the manager removes the file once it has
 * answered), and the next manager answers those still pending (src/seccomp/supervisor.ts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "pidfd.h"

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE 1
#endif

#define CONTROL 3
#define MAX_LISTENERS 4096
#define KIND_NOTIFICATION 1
#define KIND_HANGUP 2

#define ID_LEN 24
struct listener { int copy, manager_fd; char id[ID_LEN + 1]; };
static const char *pending_dir;

/* PENDING_DIR/<id>.<notification id>: what the next manager needs to answer it. */
static void journal(const struct listener *l, const struct seccomp_notif *n) {
  if (!pending_dir || !l->id[0]) return;
  char path[4096], tmp[4200];
  snprintf(path, sizeof path, "%s/%s.%016llx", pending_dir, l->id, (unsigned long long)n->id);
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  ssize_t w = write(fd, n, sizeof *n);
  close(fd);
  if (w == (ssize_t)sizeof *n) rename(tmp, path);
  else unlink(tmp);
}
static struct listener listeners[MAX_LISTENERS];
static int nlisteners;

/* Writes all of buf, or exits: the manager is gone. */
static void send_all(const void *buf, size_t n) {
  const char *p = buf;
  while (n > 0) {
    ssize_t w = write(CONTROL, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) exit(0);
    p += w;
    n -= (size_t)w;
  }
}

static void report(int kind, int manager_fd, const struct seccomp_notif *n) {
  unsigned char rec[8 + sizeof(struct seccomp_notif)];
  int32_t head[2] = {kind, manager_fd};
  memcpy(rec, head, 8);
  if (n) memcpy(rec + 8, n, sizeof *n);
  else memset(rec + 8, 0, sizeof *n);
  send_all(rec, sizeof rec);
}

static int is_mount(const struct seccomp_notif *n) {
  switch (n->data.arch) {
  case AUDIT_ARCH_X86_64: return n->data.nr == 165;
  case AUDIT_ARCH_I386: return n->data.nr == 21;
  case AUDIT_ARCH_AARCH64: return n->data.nr == 40;
  default: return 0;
  }
}

static ino_t own_userns;

/* Whether `pid` (or, with parent, its parent) is in the host's user namespace. */
static int host_side(unsigned pid, int parent) {
  char path[64];
  if (parent) {
    snprintf(path, sizeof path, "/proc/%u/status", pid);
    FILE *f = fopen(path, "re");
    if (!f) return 0;
    char line[128];
    unsigned ppid = 0;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "PPid: %u", &ppid) == 1) break;
    fclose(f);
    pid = ppid;
  }
  struct stat st;
  snprintf(path, sizeof path, "/proc/%u/ns/user", pid);
  return pid > 0 && stat(path, &st) == 0 && st.st_ino == own_userns;
}

/* runc names its init "runc:[2:INIT]" (and its stages "runc:[0:PARENT]", "runc:[1:CHILD]"). */
static int is_runc_init(unsigned pid) {
  char path[64], comm[32] = "";
  snprintf(path, sizeof path, "/proc/%u/comm", pid);
  FILE *f = fopen(path, "re");
  if (!f) return 0;
  if (!fgets(comm, sizeof comm, f)) comm[0] = 0;
  fclose(f);
  return !strncmp(comm, "runc:[", 6);
}

/*
 * A mount the supervisor has nothing to do with: let it go on here. That is any type
 * but the four it handles, and the runtime's own mounts: host-side ones (the proc mount
 * of vnode-runtime-exec) and those of runc's init for a container of the vNode (named
 * so, with host-side runc as its parent; the container's vnodefs files come from its
 * spec). Either way the kernel's own checks still apply: the worst a process passing
 * for runc's init gets is a plain procfs, which shows the host's figures.
 */
static int passed_on(int fd, const struct seccomp_notif *n) {
  if (!is_mount(n)) return 0;
  if (host_side(n->pid, 0) || (is_runc_init(n->pid) && host_side(n->pid, 1))) goto proceed;
  char type[16] = "";
  if (n->data.args[2]) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%u/mem", n->pid);
    int mem = open(path, O_RDONLY | O_CLOEXEC);
    if (mem < 0) return 1; /* the caller is gone */
    ssize_t got = pread(mem, type, sizeof type - 1, (off_t)n->data.args[2]);
    close(mem);
    type[got > 0 ? got : 0] = 0;
  }
  static const char *supervised[] = {"proc", "sysfs", "nfsd", "rpc_pipefs"};
  for (unsigned i = 0; i < sizeof supervised / sizeof *supervised; i++)
    if (!strcmp(type, supervised[i])) return 0;
proceed:;
  __u64 id = n->id;
  if (ioctl(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0) return 1;
  struct seccomp_notif_resp resp = {.id = n->id, .flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE};
  ioctl(fd, SECCOMP_IOCTL_NOTIF_SEND, &resp);
  return 1;
}

int main(int argc, char **argv) {
  if (argc > 1) pending_dir = argv[1];
  signal(SIGPIPE, SIG_IGN);
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  struct stat self;
  if (stat("/proc/self/ns/user", &self) == 0) own_userns = self.st_ino;
  int manager = (int)syscall(SYS_pidfd_open, getppid(), 0);
  if (manager < 0) {
    perror("vnode-notify: pidfd_open of the manager");
    return 1;
  }
  unsigned char pending[8 + ID_LEN];
  size_t have = 0;
  static struct pollfd pfd[MAX_LISTENERS + 1];
  for (;;) {
    pfd[0] = (struct pollfd){.fd = CONTROL, .events = POLLIN};
    for (int i = 0; i < nlisteners; i++) pfd[i + 1] = (struct pollfd){.fd = listeners[i].copy, .events = POLLIN};
    int count = nlisteners;
    if (poll(pfd, (nfds_t)count + 1, -1) < 0) {
      if (errno == EINTR) continue;
      perror("vnode-notify: poll");
      return 1;
    }
    /* listeners first: a hangup removes entries, so walk from the end */
    for (int i = count - 1; i >= 0; i--) {
      short rev = pfd[i + 1].revents;
      if (rev & POLLIN) {
        struct seccomp_notif n;
        memset(&n, 0, sizeof n);
        /* ENOENT: the caller went away between poll and receive */
        if (ioctl(listeners[i].copy, SECCOMP_IOCTL_NOTIF_RECV, &n) == 0 && !passed_on(listeners[i].copy, &n)) {
          journal(&listeners[i], &n);
          report(KIND_NOTIFICATION, listeners[i].manager_fd, &n);
        }
      } else if (rev & (POLLHUP | POLLERR | POLLNVAL)) {
        report(KIND_HANGUP, listeners[i].manager_fd, NULL);
        close(listeners[i].copy);
        listeners[i] = listeners[--nlisteners];
      }
    }
    if (pfd[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t r = read(CONTROL, pending + have, sizeof pending - have);
      if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN)) return 0; /* the manager is gone */
      if (r > 0) have += (size_t)r;
      if (have == sizeof pending) {
        int32_t op, fd;
        char id[ID_LEN + 1];
        memcpy(&op, pending, 4);
        memcpy(&fd, pending + 4, 4);
        memcpy(id, pending + 8, ID_LEN);
        id[ID_LEN] = 0;
        have = 0;
        if (op != 1) continue;
        int copy = pidfd_copy(manager, fd);
        if (copy < 0 || nlisteners == MAX_LISTENERS) {
          fprintf(stderr, "vnode-notify: cannot watch listener %d: %s\n", fd, copy < 0 ? strerror(errno) : "too many");
          /* the manager closes it when told it hung up */
          report(KIND_HANGUP, fd, NULL);
          if (copy >= 0) close(copy);
          continue;
        }
        fcntl(copy, F_SETFD, FD_CLOEXEC);
        listeners[nlisteners].copy = copy;
        listeners[nlisteners].manager_fd = fd;
        /* ids are [a-z0-9-]: anything else would not be a file name of ours */
        size_t k = 0;
        for (; id[k] && ((id[k] >= 'a' && id[k] <= 'z') || (id[k] >= '0' && id[k] <= '9') || id[k] == '-'); k++) listeners[nlisteners].id[k] = id[k];
        listeners[nlisteners].id[id[k] ? 0 : k] = 0;
        nlisteners++;
      }
    }
  }
}
