/*
 * containerd-shim-vnode-v2 (front): containerd execs the shim once per sandbox (and, in
 * shim protocol 2, once per container) just to learn the manager's address, and once
 * more per task after deleting it (closing its connection makes containerd run the
 * dead-shim cleanup, `delete`; in protocol 3 only for the sandbox).
 * When the manager of this containerd instance already runs (manager.pid's process, not
 * dying) and its socket accepts, `start` prints the address itself; when the manager has left a deleted task's response
 * (src/taskapi/tombstones.ts), `delete` prints it. A few milliseconds each; everything
 * else (spawning the manager, cleanup after a crash, flags) goes to the Node.js shim.
 *
 * `start` answers in shim protocol 3 (the JSON bootstrap containerd 2.x's own runc shim
 * prints) when containerd is 2.x or newer: containerd then reaches a sandbox's containers
 * over the sandbox's address instead of running `start` (and `delete`) for each of them.
 * containerd 1.x refuses protocol 3, so it gets the plain address (protocol 2). The major
 * version comes from `<publish-binary> --version`, cached in the instance directory by the
 * binary's inode, size and mtime; VNODE_SHIM_PROTOCOL=2|3 in containerd's environment
 * decides instead. src/shim/bootstrap.ts is the Node.js shim's side of the same choice.
 *
 * The instance directory must be the one the Node.js shim computes
 * (src/shim/instance.ts): <VNODE_RUN_DIR or /run/vnode>/<first 12 hex digits of
 * sha256(absolute, normalised path of containerd's socket)>.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unix-connect.h"

/* ---- SHA-256 (FIPS 180-4) --------------------------------------------------- */
static const uint32_t K[64] = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};
#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha256_block(uint32_t h[8], const unsigned char *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++) w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
  }
  h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += k;
}

static void sha256_hex(const char *msg, char out[65]) {
  uint32_t h[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };
  size_t len = strlen(msg), i = 0;
  unsigned char block[64];
  for (; i + 64 <= len; i += 64) sha256_block(h, (const unsigned char *)msg + i);
  size_t rest = len - i;
  memset(block, 0, 64);
  memcpy(block, msg + i, rest);
  block[rest] = 0x80;
  if (rest >= 56) { sha256_block(h, block); memset(block, 0, 64); }
  uint64_t bits = (uint64_t)len * 8;
  for (int j = 0; j < 8; j++) block[63 - j] = (unsigned char)(bits >> (8 * j));
  sha256_block(h, block);
  for (int j = 0; j < 8; j++) snprintf(out + 8 * j, 9, "%08x", h[j]);
}

/* ---- path.resolve(): absolute, no "", ".", ".." components, no trailing slash ---- */
static int resolve_path(const char *in, char *out, size_t cap) {
  char buf[PATH_MAX * 2];
  if (in[0] == '/') snprintf(buf, sizeof buf, "%s", in);
  else {
    char cwd[PATH_MAX];
    if (!getcwd(cwd, sizeof cwd)) return -1;
    snprintf(buf, sizeof buf, "%s/%s", cwd, in);
  }
  size_t n = 0;
  out[0] = 0;
  for (char *save = NULL, *part = strtok_r(buf, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
    if (!strcmp(part, ".")) continue;
    if (!strcmp(part, "..")) { while (n > 0 && out[n - 1] != '/') n--; if (n > 0) n--; out[n] = 0; continue; }
    size_t l = strlen(part);
    if (n + 1 + l + 1 > cap) return -1;
    out[n++] = '/';
    memcpy(out + n, part, l);
    n += l;
    out[n] = 0;
  }
  if (n == 0) { out[0] = '/'; out[1] = 0; }
  return 0;
}

/* One path component as src/taskapi/tombstones.ts accepts it: [A-Za-z0-9][A-Za-z0-9._-]*. */
static int plain_name(const char *s) {
  if (!s || !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))) return 0;
  for (; *s; s++) {
    int ok = (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '.' || *s == '_' || *s == '-';
    if (!ok) return 0;
  }
  return 1;
}

/* Prints and removes the response the manager left for a deleted task; 0 if there is none. */
static int print_tombstone(const char *instance_dir, const char *ns, const char *id) {
  if (!plain_name(ns) || !plain_name(id)) return 0;
  char path[PATH_MAX * 2];
  snprintf(path, sizeof path, "%s/deleted/%s/%s", instance_dir, ns, id);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[4096];
  ssize_t n = read(fd, buf, sizeof buf);
  close(fd);
  if (n <= 0 || n == (ssize_t)sizeof buf) return 0; /* empty or not a DeleteResponse: let the shim decide */
  if (write(1, buf, (size_t)n) != n) return -1;
  unlink(path);
  return 1;
}

/* ---- shim protocol: 3 for containerd >= 2, else 2 ----------------------------------- */

/* The major version in `containerd --version` output ("containerd <module> <version> ..."): 0 if unknown. */
static int major_of_version_line(const char *line) {
  char copy[512];
  snprintf(copy, sizeof copy, "%s", line);
  char *save = NULL, *word = strtok_r(copy, " \t\n", &save);
  for (int i = 1; word && i < 3; i++) word = strtok_r(NULL, " \t\n", &save);
  if (!word) return 0;
  if (*word == 'v') word++;
  return (*word >= '0' && *word <= '9') ? atoi(word) : 0;
}

/* Runs `bin --version` (stdout only; containerd's own timeout on `start` bounds the wait): its major version, 0 if unknown. */
static int run_version(const char *bin) {
  int fds[2];
  if (pipe(fds) < 0) return 0;
  pid_t pid = fork();
  if (pid < 0) { close(fds[0]); close(fds[1]); return 0; }
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) { dup2(null, 0); dup2(null, 2); }
    dup2(fds[1], 1);
    close(fds[0]);
    execl(bin, bin, "--version", (char *)NULL);
    _exit(127);
  }
  close(fds[1]);
  char out[512];
  size_t n = 0;
  for (ssize_t r; n < sizeof out - 1 && (r = read(fds[0], out + n, sizeof out - 1 - n)) != 0;) {
    if (r < 0) { if (errno == EINTR) continue; break; }
    n += (size_t)r;
  }
  out[n] = 0;
  close(fds[0]);
  int status;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? major_of_version_line(out) : 0;
}

/* containerd's major version; cached in `dir` (if given) under the binary's identity. */
static int containerd_major(const char *dir, const char *bin) {
  struct stat st;
  if (!bin || !*bin || stat(bin, &st) != 0) return 0;
  char key[160];
  snprintf(key, sizeof key, "%llu %lld %lld.%09ld ", (unsigned long long)st.st_ino, (long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
  char cache[PATH_MAX + 64], tmp[PATH_MAX + 96];
  if (dir) {
    snprintf(cache, sizeof cache, "%s/containerd-version", dir);
    int fd = open(cache, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char buf[256];
      ssize_t r = read(fd, buf, sizeof buf - 1);
      close(fd);
      size_t kl = strlen(key);
      if (r > (ssize_t)kl) {
        buf[r] = 0;
        if (!strncmp(buf, key, kl) && buf[kl] >= '0' && buf[kl] <= '9') return atoi(buf + kl);
      }
    }
  }
  int major = run_version(bin);
  if (dir && major > 0) {
    snprintf(tmp, sizeof tmp, "%s/.containerd-version.%d", dir, (int)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
      char line[200];
      int l = snprintf(line, sizeof line, "%s%d\n", key, major);
      int ok = write(fd, line, (size_t)l) == l;
      close(fd);
      if (!ok || rename(tmp, cache) != 0) unlink(tmp);
    }
  }
  return major;
}

/* The shim protocol `start` answers in: VNODE_SHIM_PROTOCOL if 2 or 3, else 3 for containerd >= 2. */
static int shim_protocol(const char *dir, const char *publish_binary) {
  const char *forced = getenv("VNODE_SHIM_PROTOCOL");
  if (forced && (!strcmp(forced, "2") || !strcmp(forced, "3"))) return atoi(forced);
  return containerd_major(dir, publish_binary) >= 2 ? 3 : 2;
}

/*
 * Whether the manager recorded in <dir>/manager.pid ("<pid> <start time>") runs and is not
 * dying. A killed manager's listening socket still takes connections while the kernel
 * tears the process down (its memory goes before its files: ~30 ms for 350 MB here), so
 * a connect alone would hand containerd the address of a manager that never answers:
 * containerd's call then fails with "ttrpc: closed". A pending SIGKILL or PF_EXITING
 * (/proc/<pid>/stat's flags) marks that window; the Node.js shim then waits for the
 * next manager.
 */
static int manager_runs(const char *dir) {
  char path[PATH_MAX + 128], buf[4096], want_start[32] = "";
  long pid = 0;
  snprintf(path, sizeof path, "%s/manager.pid", dir);
  FILE *f = fopen(path, "r");
  if (!f) return 0;
  int n = fscanf(f, "%ld %31s", &pid, want_start);
  fclose(f);
  if (n < 1 || pid <= 0) return 0;
  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  ssize_t len = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (len <= 0) return 0;
  buf[len] = 0;
  /* fields after the command's closing parenthesis: 3 state, 9 flags, 22 start time */
  char *p = strrchr(buf, ')');
  if (!p) return 0;
  char state = 0, start[32] = "";
  unsigned long flags = 0;
  if (sscanf(p + 2, "%c %*d %*d %*d %*d %*d %lu %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %31s", &state, &flags, start) != 3) return 0;
  if (state == 'Z' || state == 'X' || state == 'x' || (flags & 0x4 /* PF_EXITING */)) return 0;
  if (n == 2 && strcmp(start, want_start)) return 0;
  snprintf(path, sizeof path, "/proc/%ld/status", pid);
  f = fopen(path, "r");
  if (!f) return 0;
  int killed = 0;
  char line[256];
  while (fgets(line, sizeof line, f)) {
    unsigned long long pending;
    if ((!strncmp(line, "SigPnd:", 7) || !strncmp(line, "ShdPnd:", 7)) && sscanf(line + 7, "%llx", &pending) == 1 && (pending & (1ULL << 8) /* SIGKILL */)) killed = 1;
  }
  fclose(f);
  return !killed;
}

int main(int argc, char **argv) {
  const char *address = NULL, *ns = getenv("NAMESPACE"), *id = NULL, *publish_binary = NULL;
  for (int i = 1; i + 1 < argc; i++) {
    if (!strcmp(argv[i], "-address") || !strcmp(argv[i], "--address")) address = argv[i + 1];
    else if (!strcmp(argv[i], "-publish-binary") || !strcmp(argv[i], "--publish-binary")) publish_binary = argv[i + 1];
    else if (!strcmp(argv[i], "-namespace") || !strcmp(argv[i], "--namespace")) ns = argv[i + 1];
    else if (!strcmp(argv[i], "-id") || !strcmp(argv[i], "--id")) id = argv[i + 1];
  }
  int is_start = argc > 1 && !strcmp(argv[argc - 1], "start");
  int is_delete = argc > 1 && !strcmp(argv[argc - 1], "delete");
  if ((is_start || is_delete) && address && *address) {
    const char *path = strncmp(address, "unix://", 7) ? address : address + 7;
    char abs[PATH_MAX], hex[65], dir[PATH_MAX + 64], sock[PATH_MAX + 128];
    const char *run = getenv("VNODE_RUN_DIR");
    if (!run || !*run) run = "/run/vnode";
    if (resolve_path(path, abs, sizeof abs) == 0) {
      sha256_hex(abs, hex);
      hex[12] = 0;
      snprintf(dir, sizeof dir, "%s/%s", run, hex);
      snprintf(sock, sizeof sock, "%s/manager.sock", dir);
      if (is_delete) {
        int r = print_tombstone(dir, ns, id);
        if (r < 0) return 1;
        if (r > 0) return 0;
      } else if (manager_runs(dir) && unix_accepts(sock)) {
        /* containerd 2.x passes runtime options on stdin: take them, as the shim would. */
        char drain[4096];
        while (read(0, drain, sizeof drain) > 0) {}
        if (!strpbrk(sock, "\"\\") && shim_protocol(dir, publish_binary) == 3) printf("{\"version\":3,\"address\":\"unix://%s\",\"protocol\":\"ttrpc\"}", sock);
        else printf("unix://%s", sock);
        return fflush(stdout) == 0 ? 0 : 1;
      }
    }
  }
  /* The Node.js shim answers `start` in the same protocol (src/shim/bootstrap.ts). */
  if (is_start) {
    char protocol[2] = { (char)('0' + shim_protocol(NULL, publish_binary)), 0 };
    setenv("VNODE_SHIM_PROTOCOL", protocol, 1);
  }
  /* Everything else: the Node.js shim, with our arguments. */
  char self[PATH_MAX], script[PATH_MAX + 64];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n < 0) { perror("containerd-shim-vnode-v2: readlink /proc/self/exe"); return 1; }
  self[n] = 0;
  char *slash = strrchr(self, '/');
  if (slash) *slash = 0;
  snprintf(script, sizeof script, "%s/../dist/bin/containerd-shim-vnode-v2", self);
  char **nargv = calloc((size_t)argc + 2, sizeof *nargv);
  if (!nargv) return 1;
  nargv[0] = "node";
  nargv[1] = script;
  for (int i = 1; i < argc; i++) nargv[i + 1] = argv[i];
  /* An installed prefix (vnode install) carries its own Node.js beside this front. */
  char own[PATH_MAX + 16];
  snprintf(own, sizeof own, "%s/node", self);
  if (access(own, X_OK) == 0) execv(own, nargv);
  execvp("node", nargv);
  fprintf(stderr, "containerd-shim-vnode-v2: cannot run node: %s\n", strerror(errno));
  return 127;
}
