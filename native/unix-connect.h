/* Whether something accepts connections on a unix socket (a "unix://" prefix is allowed).
 * Shared by the shim's C front (is the manager up?) and vnode-hold (is containerd still up?). */
#ifndef VNODE_UNIX_CONNECT_H
#define VNODE_UNIX_CONNECT_H
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int unix_accepts(const char *path) {
  if (!path) return 0;
  if (!strncmp(path, "unix://", 7)) path += 7;
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  struct sockaddr_un a = { .sun_family = AF_UNIX };
  if (strlen(path) >= sizeof a.sun_path) { close(fd); return 0; }
  strcpy(a.sun_path, path);
  int ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}
#endif
