/*
 * vnode-hold: keeps copies of containerd's connections to the manager, so they
 * survive a manager crash or upgrade.
 *
 * containerd treats a closed shim connection as a dead shim and reports every task
 * behind it as exited. This process holds a copy of each connection's descriptor
 * (taken from the manager with pidfd_getfd), so when the manager dies the sockets
 * stay open, requests wait in their buffers, and a new manager takes the copies back
 * the same way and serves them. It is C because it must outlive Node.js and cost
 * nothing.
 *
 * usage: vnode-hold --manager PID --control FIFO --list FILE [--address SOCKET --respawn CMD...]
 * control lines: "take <fd> <id>", "drop <id>", "manager <pid>"
 * FILE lists "<id> <held fd>" per connection, rewritten after each change.
 * While no manager lives, connections containerd closes are dropped; with no manager
 * and no connection left there is nothing to keep, and it exits.
 *
 * With --respawn, a manager that dies while connections are held is started again:
 * CMD (the shim's `start`, which takes the lock that keeps two managers from starting)
 * is run 300 ms after the death and every 5 s while none has said "manager <pid>",
 * as long as containerd still listens on SOCKET. Until a manager serves, containerd's
 * calls and every reader of vnodefs wait; this bounds the wait instead of leaving it
 * to the next shim call.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "pidfd.h"
#include "unix-connect.h"


#define MAX_HELD 4096

struct held { char id[64]; int fd; };
static struct held held[MAX_HELD];
static int nheld;
static const char *list_path;

static void write_list(void) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", list_path);
  FILE *f = fopen(tmp, "w");
  if (!f) return;
  for (int i = 0; i < nheld; i++) fprintf(f, "%s %d\n", held[i].id, held[i].fd);
  fclose(f);
  rename(tmp, list_path);
}

static int find(const char *id) {
  for (int i = 0; i < nheld; i++) if (!strcmp(held[i].id, id)) return i;
  return -1;
}

static int open_manager(int pid) {
  return (int)syscall(SYS_pidfd_open, pid, 0);
}

static void command(char *line, int *manager) {
  int fd, pid;
  char id[64];
  if (sscanf(line, "take %d %63s", &fd, id) == 2) {
    if (find(id) >= 0 || nheld == MAX_HELD || *manager < 0) return;
    int copy = pidfd_copy(*manager, fd);
    if (copy < 0) { fprintf(stderr, "vnode-hold: pidfd_getfd %d: %s\n", fd, strerror(errno)); return; }
    fcntl(copy, F_SETFD, FD_CLOEXEC);
    snprintf(held[nheld].id, sizeof held[nheld].id, "%s", id);
    held[nheld++].fd = copy;
    write_list();
  } else if (sscanf(line, "drop %63s", id) == 1) {
    int i = find(id);
    if (i < 0) return;
    close(held[i].fd);
    held[i] = held[--nheld];
    write_list();
  } else if (sscanf(line, "manager %d", &pid) == 1) {
    if (*manager >= 0) close(*manager);
    *manager = open_manager(pid);
  }
}

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Runs CMD detached (its own session, stdio on /dev/null); children are reaped by SIGCHLD=SIG_IGN. */
static void respawn(char **cmd) {
  pid_t pid = fork();
  if (pid != 0) return;
  setsid();
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); }
  execv(cmd[0], cmd);
  _exit(127);
}

int main(int argc, char **argv) {
  int manager_pid = 0;
  const char *control_path = NULL, *address = NULL;
  char **respawn_cmd = NULL;
  for (int i = 1; i < argc; i += 2) {
    if (!strcmp(argv[i], "--respawn") && i + 1 < argc) { respawn_cmd = &argv[i + 1]; break; }
    if (i + 1 >= argc) { fprintf(stderr, "vnode-hold: option %s needs a value\n", argv[i]); return 2; }
    if (!strcmp(argv[i], "--manager")) manager_pid = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--control")) control_path = argv[i + 1];
    else if (!strcmp(argv[i], "--list")) list_path = argv[i + 1];
    else if (!strcmp(argv[i], "--address")) address = argv[i + 1];
    else { fprintf(stderr, "vnode-hold: unknown option %s\n", argv[i]); return 2; }
  }
  if (!manager_pid || !control_path || !list_path) { fprintf(stderr, "vnode-hold: --manager, --control and --list are required\n"); return 2; }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGHUP, SIG_IGN);
  signal(SIGCHLD, SIG_IGN);
  if (mkfifo(control_path, 0600) < 0 && errno != EEXIST) { perror("vnode-hold: mkfifo"); return 1; }
  /* O_RDWR: the FIFO never reports EOF while managers come and go. */
  int control = open(control_path, O_RDWR | O_CLOEXEC);
  if (control < 0) { perror("vnode-hold: open control"); return 1; }
  int manager = open_manager(manager_pid);
  write_list();
  printf("ready\n");
  fflush(stdout);
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) { dup2(devnull, 0); dup2(devnull, 1); dup2(devnull, 2); }

  char buf[4096], line[256];
  size_t len = 0;
  long long respawn_at = -1; /* when to run the respawn command next; -1: not due */
  for (;;) {
    struct pollfd fds[2 + MAX_HELD];
    int n = 0;
    int watching_held = manager < 0;
    fds[n++] = (struct pollfd){ control, POLLIN, 0 };
    if (!watching_held) fds[n++] = (struct pollfd){ manager, POLLIN, 0 };
    else {
      if (nheld == 0) return 0;
      /* no manager: watch only for containerd hanging up, never read */
      for (int i = 0; i < nheld; i++) fds[n++] = (struct pollfd){ held[i].fd, POLLRDHUP, 0 };
    }
    int timeout = -1;
    if (manager < 0 && respawn_cmd && respawn_at >= 0) {
      long long wait = respawn_at - now_ms();
      timeout = wait < 0 ? 0 : (int)wait;
    }
    int ready = poll(fds, (nfds_t)n, timeout);
    if (ready < 0) { if (errno == EINTR) continue; return 1; }
    if (!watching_held && (fds[1].revents & POLLIN)) { /* the manager exited */
      close(manager);
      manager = -1;
      respawn_at = now_ms() + 300;
    }
    if (manager < 0 && respawn_cmd && respawn_at >= 0 && now_ms() >= respawn_at) {
      if (nheld > 0 && unix_accepts(address)) respawn(respawn_cmd);
      respawn_at = now_ms() + 5000;
    }
    if (watching_held) {
      for (int i = n - 1; i >= 1; i--) {
        if (fds[i].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
          int j = i - 1;
          if (j < nheld) { close(held[j].fd); held[j] = held[--nheld]; write_list(); }
        }
      }
    }
    if (!(fds[0].revents & POLLIN)) continue;
    ssize_t r = read(control, buf, sizeof buf);
    if (r < 0) { if (errno == EINTR || errno == EAGAIN) continue; return 1; }
    for (ssize_t i = 0; i < r; i++) {
      if (buf[i] == '\n' || len == sizeof line - 1) { line[len] = 0; command(line, &manager); len = 0; }
      else line[len++] = buf[i];
    }
  }
}
