/*
 * vnode-tty: relays one container terminal, independent of the manager.
 *
 * The OCI runtime hands the pty master to a console socket; this process owns that
 * socket, receives the master (SCM_RIGHTS) and copies master -> stdout FIFO and
 * stdin FIFO -> master until the terminal closes. The manager talks to it through a
 * control FIFO: "resize <cols> <rows>" and "close-stdin" lines. Because it is not the
 * manager, a terminal keeps working while the manager restarts.
 *
 * usage: vnode-tty --socket PATH --control FIFO --stdout FIFO [--stdin FIFO]
 * Prints "ready" on stdout once the socket listens, then detaches stdout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static void die(const char *what) {
  fprintf(stderr, "vnode-tty: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int receive_master(int listener) {
  int conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
  if (conn < 0) die("accept console socket");
  char data[4096];
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = { .iov_base = data, .iov_len = sizeof data };
  struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
  if (recvmsg(conn, &msg, MSG_CMSG_CLOEXEC) < 0) die("recvmsg");
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  if (!c || c->cmsg_type != SCM_RIGHTS) { fprintf(stderr, "vnode-tty: no descriptor on console socket\n"); exit(1); }
  int master;
  memcpy(&master, CMSG_DATA(c), sizeof master);
  close(conn);
  return master;
}

/* Writes all of buf; a reader that went away is not fatal for the terminal. */
static void write_all(int fd, const char *buf, ssize_t n) {
  while (n > 0) {
    ssize_t w = write(fd, buf, (size_t)n);
    if (w < 0) { if (errno == EINTR) continue; if (errno == EAGAIN) { struct pollfd p = { fd, POLLOUT, 0 }; poll(&p, 1, 1000); continue; } return; }
    buf += w; n -= w;
  }
}

static void handle_control(int master, char *line, int *stdin_fd) {
  unsigned cols, rows;
  if (sscanf(line, "resize %u %u", &cols, &rows) == 2) {
    struct winsize ws = { .ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols };
    ioctl(master, TIOCSWINSZ, &ws);
  } else if (!strncmp(line, "close-stdin", 11) && *stdin_fd >= 0) {
    close(*stdin_fd);
    *stdin_fd = -1;
    /* Like a user typing ^D at the start of a line: the program reads EOF. */
    char eof = 4;
    write_all(master, &eof, 1);
  }
}

int main(int argc, char **argv) {
  const char *sock_path = NULL, *control_path = NULL, *stdout_path = NULL, *stdin_path = NULL;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--socket")) sock_path = argv[i + 1];
    else if (!strcmp(argv[i], "--control")) control_path = argv[i + 1];
    else if (!strcmp(argv[i], "--stdout")) stdout_path = argv[i + 1];
    else if (!strcmp(argv[i], "--stdin")) stdin_path = argv[i + 1];
    else { fprintf(stderr, "vnode-tty: unknown option %s\n", argv[i]); return 2; }
  }
  if (!sock_path || !control_path) { fprintf(stderr, "vnode-tty: --socket and --control are required\n"); return 2; }
  signal(SIGPIPE, SIG_IGN);

  int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) die("socket");
  struct sockaddr_un addr = { .sun_family = AF_UNIX };
  if (strlen(sock_path) >= sizeof addr.sun_path) { fprintf(stderr, "vnode-tty: socket path too long\n"); return 2; }
  strcpy(addr.sun_path, sock_path);
  unlink(sock_path);
  if (bind(listener, (struct sockaddr *)&addr, sizeof addr) < 0) die("bind");
  if (listen(listener, 1) < 0) die("listen");
  if (mkfifo(control_path, 0600) < 0 && errno != EEXIST) die("mkfifo control");
  /* O_RDWR: never sees EOF when the manager closes its end or restarts. */
  int control = open(control_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (control < 0) die("open control");

  printf("ready\n");
  fflush(stdout);
  int devnull = open("/dev/null", O_RDWR);
  dup2(devnull, 0); dup2(devnull, 1);
  setsid();

  int master = receive_master(listener);
  close(listener);
  unlink(sock_path);

  int out = -1;
  if (stdout_path && *stdout_path) {
    out = open(stdout_path, O_WRONLY | O_CLOEXEC);
    if (out < 0) die("open stdout");
  }
  int in = -1;
  if (stdin_path && *stdin_path) {
    in = open(stdin_path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (in < 0) die("open stdin");
  }

  char buf[32768], line[256];
  size_t line_len = 0;
  for (;;) {
    struct pollfd fds[3] = { { master, POLLIN, 0 }, { control, POLLIN, 0 }, { in, POLLIN, 0 } };
    int nfds = in >= 0 ? 3 : 2;
    if (poll(fds, (nfds_t)nfds, -1) < 0) { if (errno == EINTR) continue; die("poll"); }
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0) { if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue; break; } /* EIO: terminal closed */
      if (out >= 0) write_all(out, buf, n);
    }
    if (fds[1].revents & POLLIN) {
      ssize_t n = read(control, buf, sizeof buf);
      for (ssize_t i = 0; i < n; i++) {
        if (buf[i] == '\n' || line_len == sizeof line - 1) {
          line[line_len] = 0;
          handle_control(master, line, &in);
          line_len = 0;
        } else line[line_len++] = buf[i];
      }
    }
    if (in >= 0 && (fds[2].revents & POLLIN)) {
      ssize_t n = read(in, buf, sizeof buf);
      if (n > 0) write_all(master, buf, n);
    }
  }
  unlink(control_path);
  return 0;
}
