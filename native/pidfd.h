/* pidfd_open and pidfd_getfd by number: glibc 2.36 has no wrappers for them everywhere. */
#ifndef VNODE_PIDFD_H
#define VNODE_PIDFD_H
#include <sys/syscall.h>
#include <unistd.h>
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
/* A copy of descriptor `fd` of the process behind `pidfd`; -1 with errno. */
static inline int pidfd_copy(int pidfd, int fd) {
  return (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
}
#endif
