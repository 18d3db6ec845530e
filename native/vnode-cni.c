/*
 * vnode-cni: the CNI plugin at the end of the vnode runtime's network chain.
 *
 * It refuses host ports: a pod of a vNode cannot have a port on the host (the
 * host's network is outside what a tenant may reach), so an ADD whose runtimeConfig
 * carries portMappings (containerd passes only mappings with a host port) fails with
 * an error that names the pod, the ports and what to use instead. containerd then
 * tears the sandbox's network down and removes its namespace; no vNode is created,
 * since the sandbox task never is. Otherwise it passes the previous result on, and
 * leaves a marker for the vnode manager: <state dir>/<container id>.json with the
 * netns path, interface and pod names. The manager refuses a sandbox without one (its
 * network was not set up through the vnode runtime's chain) and adopts the pod's
 * links into the vNode's namespace when it creates the sandbox (docs/networking.md).
 * DEL removes the marker. CHECK verifies that the adopted interface is still in place
 * (check() below). With CNI 1.1.0, GC removes the markers of attachments the runtime no
 * longer has and STATUS says whether ADD can write one (gc() and status() below). The
 * state dir is the network config's "stateDir", else $VNODE_RUN_DIR/cni, else
 * /run/vnode/cni.
 *
 * C, not Node.js: it runs for every pod sandbox, and Node.js's start-up alone would be
 * a tenth of a pod's start time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <net/if.h>
#include <dirent.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- just enough JSON: skip values, find members, read numbers and strings ---- */

static const char *ws(const char *p) {
  while (*p && isspace((unsigned char)*p)) p++;
  return p;
}

/* The end of the JSON value at p (after whitespace), or NULL if malformed. */
static const char *skip(const char *p) {
  p = ws(p);
  if (*p == '"') {
    for (p++; *p && *p != '"'; p++)
      if (*p == '\\' && p[1]) p++;
    return *p == '"' ? p + 1 : NULL;
  }
  if (*p == '{' || *p == '[') {
    int depth = 0;
    for (; *p; p++) {
      if (*p == '"') {
        p = skip(p);
        if (!p) return NULL;
        p--;
      } else if (*p == '{' || *p == '[') depth++;
      else if ((*p == '}' || *p == ']') && --depth == 0) return p + 1;
    }
    return NULL;
  }
  while (*p && !strchr(",}] \t\r\n", *p)) p++;
  return p;
}

/* The value of member `key` of the object at p, or NULL. */
static const char *member(const char *p, const char *key) {
  if (!p) return NULL;
  p = ws(p);
  if (*p != '{') return NULL;
  size_t klen = strlen(key);
  for (p = ws(p + 1); *p == '"';) {
    const char *k = p + 1, *kend = skip(p);
    if (!kend) return NULL;
    p = ws(kend);
    if (*p != ':') return NULL;
    const char *v = ws(p + 1);
    if ((size_t)(kend - 1 - k) == klen && !strncmp(k, key, klen)) return v;
    p = skip(v);
    if (!p) return NULL;
    p = ws(p);
    if (*p == ',') p = ws(p + 1);
  }
  return NULL;
}

/* The member under either name: CNI's conventions spell it hostPort, containerd (go-cni's
   PortMapping, marshalled without JSON tags) HostPort. */
static const char *either(const char *obj, const char *a, const char *b) {
  const char *v = member(obj, a);
  return v ? v : member(obj, b);
}

/* The n-th element of the JSON array at p, or NULL. */
static const char *element(const char *p, int n) {
  if (!p || *(p = ws(p)) != '[') return NULL;
  for (p = ws(p + 1); *p && *p != ']'; n--) {
    if (n == 0) return p;
    p = skip(p);
    if (!p) return NULL;
    p = ws(p);
    if (*p == ',') p = ws(p + 1);
  }
  return NULL;
}

static long number(const char *v) {
  return v ? strtol(v, NULL, 10) : 0;
}

/*
 * A string value copied into out, keeping only characters that need no escaping in the
 * JSON this plugin prints (protocols and addresses have no others; anything else is
 * dropped rather than trusted).
 */
static void string(const char *v, char *out, size_t n) {
  out[0] = 0;
  if (!v || *v != '"') return;
  const char *end = skip(v);
  size_t len = end ? (size_t)(end - v - 2) : 0, o = 0;
  for (size_t i = 0; i < len && o + 1 < n; i++) {
    char c = v[1 + i];
    if (c == '"' || c == '\\' || (unsigned char)c < 0x20) continue;
    out[o++] = c;
  }
  out[o] = 0;
}

/* ---- the plugin ---- */

static char *read_all(FILE *f) {
  size_t cap = 65536, len = 0;
  char *buf = malloc(cap);
  for (size_t n; buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0;) {
    len += n;
    if (len + 1 == cap) buf = realloc(buf, cap *= 2);
  }
  if (buf) buf[len] = 0;
  return buf;
}

/* K8S_POD_NAMESPACE / K8S_POD_NAME from CNI_ARGS ("K=V;K=V"). */
static void cni_arg(const char *name, char *out, size_t n) {
  const char *args = getenv("CNI_ARGS");
  snprintf(out, n, "?");
  if (!args) return;
  size_t len = strlen(name);
  for (const char *p = args; p && *p; p = strchr(p, ';') ? strchr(p, ';') + 1 : NULL) {
    if (!strncmp(p, name, len) && p[len] == '=') {
      size_t vlen = strcspn(p + len + 1, ";"), o = 0;
      for (size_t i = 0; i < vlen && o + 1 < n; i++) {
        char c = p[len + 1 + i];
        if (c == '"' || c == '\\' || (unsigned char)c < 0x20) continue;
        out[o++] = c;
      }
      out[o] = 0;
      return;
    }
  }
}

static int fail(const char *version, int code, const char *msg, const char *details) {
  /* CNI's error object on stdout; msg and details hold no characters JSON must escape */
  printf("{\"cniVersion\":\"%s\",\"code\":%d,\"msg\":\"%s\",\"details\":\"%s\"}\n", version, code, msg, details);
  return 1;
}

/* Where markers go: the config's "stateDir", else $VNODE_RUN_DIR/cni, else /run/vnode/cni. */
static void state_dir(const char *conf, char *out, size_t n) {
  char dir[512];
  string(member(conf, "stateDir"), dir, sizeof dir);
  if (dir[0] == '/') {
    snprintf(out, n, "%s", dir);
    return;
  }
  const char *run = getenv("VNODE_RUN_DIR");
  snprintf(out, n, "%s/cni", run && run[0] == '/' ? run : "/run/vnode");
}

/* CNI's container ID alphabet (letters, digits, _ . -): safe as a file name. */
static int plain_id(const char *id) {
  if (!id || !id[0] || strlen(id) > 200 || id[0] == '.') return 0;
  for (const char *p = id; *p; p++)
    if (!isalnum((unsigned char)*p) && !strchr("_.-", *p)) return 0;
  return 1;
}

/* A value that can go into the marker's JSON as it is (no quote, backslash or control character). */
static int json_safe(const char *v) {
  for (const unsigned char *p = (const unsigned char *)v; *p; p++)
    if (*p == '"' || *p == '\\' || *p < 0x20) return 0;
  return 1;
}

static int mkdirs(const char *path) {
  char buf[512];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1; *p; p++) {
    if (*p != '/') continue;
    *p = 0;
    if (mkdir(buf, 0711) && errno != EEXIST) return -1;
    *p = '/';
  }
  return mkdir(buf, 0700) && errno != EEXIST ? -1 : 0;
}

/* <dir>/<id>.json, written whole (temp file + rename) so the manager never reads half of one. */
static int write_marker(const char *dir, const char *id, const char *network, const char *netns, const char *ifname, const char *ns, const char *pod) {
  char path[768], tmp[800];
  snprintf(path, sizeof path, "%s/%s.json", dir, id);
  snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
  if (mkdirs(dir)) return -1;
  FILE *f = fopen(tmp, "w");
  if (!f) return -1;
  fprintf(f, "{\"version\":1,\"containerId\":\"%s\",\"network\":\"%s\",\"netns\":\"%s\",\"ifname\":\"%s\",\"podNamespace\":\"%s\",\"podName\":\"%s\"}\n", id, network, netns, ifname, ns, pod);
  if (fclose(f) || rename(tmp, path)) {
    unlink(tmp);
    return -1;
  }
  return 0;
}

/* ---- CHECK ---- */

/*
 * CHECK looks at the pod's network where the adoption left it. The manager moves the
 * links into a namespace of the vNode's user namespace and replaces containerd's mount
 * at CNI_NETNS by a bind mount of that namespace (docs/networking.md, section 2), so
 * CNI_NETNS still names where the pod's network is. Checked, in order: ADD's marker for
 * this container, netns and interface; that the namespace at CNI_NETNS is no longer one
 * of the plugin's own user namespace (adopted); and in it interface CNI_IFNAME: present,
 * with the MAC and the addresses prevResult gives it, and up. Routes are left to the
 * plugins that made them (the bridge plugin's CHECK looks at them in the same place).
 * Done here, not by asking the manager: a CNI plugin is one exec'd binary and answers
 * on its own (the kernel has the facts; the manager adds none).
 */
enum {
  CHECK_NETNS = 100,      /* CNI_NETNS is not the namespace ADD ran for, or no namespace */
  CHECK_NO_LINK = 101,    /* no CNI_IFNAME there */
  CHECK_OTHER_LINK = 102, /* one of that name, not the one ADD made (another MAC) */
  CHECK_LINK_DOWN = 103,
  CHECK_NO_ADDR = 104, /* an address of prevResult's ips for it is not on it */
};

#define RECREATE "the pod's network is no longer what CNI ADD set up; delete the pod so that its controller makes a new one (or remove and run the sandbox again)"

/* Whether cniVersion "<major>.<minor>..." is at least want_major.want_minor (CHECK came with spec 0.4.0, GC and STATUS with 1.1.0). */
static int version_at_least(const char *version, int want_major, int want_minor) {
  int major = 0, minor = 0;
  sscanf(version, "%d.%d", &major, &minor);
  return major > want_major || (major == want_major && minor >= want_minor);
}

/* "10.1.2.3/24" or "fd00::2/64" into family, bytes and prefix length; 0 if not an address. */
static int parse_cidr(const char *text, int *family, unsigned char addr[16], int *prefix) {
  char buf[64];
  snprintf(buf, sizeof buf, "%s", text);
  char *slash = strchr(buf, '/');
  if (!slash) return 0;
  *slash = 0;
  *prefix = atoi(slash + 1);
  *family = strchr(buf, ':') ? AF_INET6 : AF_INET;
  return inet_pton(*family, buf, addr) == 1;
}

/* Whether getifaddrs' list has addr/prefix on ifname. */
static int has_addr(struct ifaddrs *list, const char *ifname, int family, const unsigned char *addr, int prefix) {
  for (struct ifaddrs *a = list; a; a = a->ifa_next) {
    if (!a->ifa_addr || a->ifa_addr->sa_family != family || strcmp(a->ifa_name, ifname) || !a->ifa_netmask) continue;
    const unsigned char *have, *mask;
    size_t len = family == AF_INET ? 4 : 16;
    if (family == AF_INET) {
      have = (const unsigned char *)&((struct sockaddr_in *)a->ifa_addr)->sin_addr;
      mask = (const unsigned char *)&((struct sockaddr_in *)a->ifa_netmask)->sin_addr;
    } else {
      have = (const unsigned char *)&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr;
      mask = (const unsigned char *)&((struct sockaddr_in6 *)a->ifa_netmask)->sin6_addr;
    }
    int bits = 0;
    for (size_t i = 0; i < len; i++) bits += __builtin_popcount(mask[i]);
    if (!memcmp(have, addr, len) && bits == prefix) return 1;
  }
  return 0;
}

/* Whether the namespace open at fd belongs to this process's own user namespace (not adopted). */
static int owned_by_my_userns(int fd, int *owned) {
  int owner = ioctl(fd, NS_GET_USERNS);
  if (owner < 0) return -1;
  struct stat a, b;
  int r = fstat(owner, &a) || stat("/proc/self/ns/user", &b) ? -1 : 0;
  close(owner);
  if (!r) *owned = a.st_dev == b.st_dev && a.st_ino == b.st_ino;
  return r;
}

static int check(const char *version, const char *conf, const char *dir, const char *id) {
  char msg[1024];
  if (!version_at_least(version, 0, 4)) {
    snprintf(msg, sizeof msg, "vnode-cni: CHECK needs cniVersion 0.4.0 or later, the network configuration says %s", version);
    return fail(version, 1, msg, "");
  }
  const char *netns = getenv("CNI_NETNS"), *ifname = getenv("CNI_IFNAME");
  if (!plain_id(id) || !netns || netns[0] != '/' || !json_safe(netns) || !ifname || !ifname[0] || strlen(ifname) >= IFNAMSIZ || !json_safe(ifname)) {
    return fail(version, 4, "vnode-cni: CHECK needs CNI_CONTAINERID (a plain container ID), CNI_NETNS (the path of the pod's network namespace) and CNI_IFNAME (an interface name)", "");
  }
  const char *prev = member(conf, "prevResult");
  if (!prev || *prev != '{') {
    return fail(version, 7, "vnode-cni: CHECK without prevResult: the runtime must pass the result of the container's ADD", "");
  }

  /* ADD's marker, for the same namespace path and interface */
  char path[768], want[512], got_if[64];
  snprintf(path, sizeof path, "%s/%s.json", dir, id);
  FILE *f = fopen(path, "r");
  char *marker = f ? read_all(f) : NULL;
  if (f) fclose(f);
  string(member(marker, "netns"), want, sizeof want);
  string(member(marker, "ifname"), got_if, sizeof got_if);
  free(marker);
  if (!want[0]) {
    snprintf(msg, sizeof msg, "vnode-cni: container %s is unknown: no marker %s (its ADD did not run through this chain, or DEL already ran)", id, json_safe(path) ? path : "in the state directory");
    return fail(version, 3, msg, "CHECK only a container that ADD attached through the vnode runtime's chain and DEL has not detached");
  }
  if (strcmp(want, netns) || strcmp(got_if, ifname)) {
    snprintf(msg, sizeof msg, "vnode-cni: container %s was attached with interface %s in %s, CHECK asks for %s in %s", id, got_if, want, ifname, netns);
    return fail(version, CHECK_NETNS, msg, "pass the CNI_NETNS and CNI_IFNAME of the container's ADD");
  }

  /* the namespace: still there, and adopted by the vNode */
  int fd = open(netns, O_RDONLY | O_CLOEXEC);
  struct statfs fs;
  if (fd < 0 || fstatfs(fd, &fs) || fs.f_type != NSFS_MAGIC) {
    snprintf(msg, sizeof msg, "vnode-cni: %s (the network namespace of container %s) is %s", netns, id, fd < 0 ? strerror(errno) : "not a network namespace any more");
    if (fd >= 0) close(fd);
    return fail(version, CHECK_NETNS, msg, RECREATE);
  }
  int mine = 0;
  if (owned_by_my_userns(fd, &mine)) {
    snprintf(msg, sizeof msg, "vnode-cni: cannot tell which user namespace owns %s: %s", netns, strerror(errno));
    close(fd);
    return fail(version, CHECK_NETNS, msg, "");
  }
  if (mine) {
    close(fd);
    snprintf(msg, sizeof msg, "vnode-cni: the network of container %s (%s) is not adopted by its vNode yet", id, netns);
    return fail(version, 11, msg, "the vnode manager moves it into the vNode's namespace when it creates the sandbox; if the sandbox runs already, its adoption failed: see the manager's log");
  }
  if (setns(fd, CLONE_NEWNET)) {
    snprintf(msg, sizeof msg, "vnode-cni: cannot enter %s: %s", netns, strerror(errno));
    close(fd);
    return fail(version, CHECK_NETNS, msg, "");
  }
  close(fd);

  /* CNI_IFNAME in it: prevResult's entry for it (with a sandbox: the container's side) */
  int index = -1;
  char mac[32] = "";
  for (int i = 0; element(member(prev, "interfaces"), i); i++) {
    const char *intf = element(member(prev, "interfaces"), i);
    char name[64], sandbox[512];
    string(member(intf, "name"), name, sizeof name);
    string(member(intf, "sandbox"), sandbox, sizeof sandbox);
    if (!strcmp(name, ifname) && sandbox[0]) {
      index = i;
      string(member(intf, "mac"), mac, sizeof mac);
      break;
    }
  }
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0); /* made after setns: bound to the pod's namespace */
  struct ifreq ifr = {0};
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr)) {
    snprintf(msg, sizeof msg, "vnode-cni: interface %s of container %s is missing from its network namespace %s", ifname, id, netns);
    return fail(version, CHECK_NO_LINK, msg, RECREATE);
  }
  short flags = ifr.ifr_flags;
  if (mac[0] && !ioctl(s, SIOCGIFHWADDR, &ifr)) {
    const unsigned char *m = (const unsigned char *)ifr.ifr_hwaddr.sa_data;
    char have[32];
    snprintf(have, sizeof have, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    if (strcasecmp(have, mac)) {
      snprintf(msg, sizeof msg, "vnode-cni: interface %s of container %s has MAC %s, not %s: it is not the interface ADD made", ifname, id, have, mac);
      return fail(version, CHECK_OTHER_LINK, msg, RECREATE);
    }
  }
  close(s);
  if (!(flags & IFF_UP)) {
    snprintf(msg, sizeof msg, "vnode-cni: interface %s of container %s is down", ifname, id);
    return fail(version, CHECK_LINK_DOWN, msg, RECREATE);
  }

  /* prevResult's ips for that interface */
  struct ifaddrs *addrs = NULL;
  if (getifaddrs(&addrs)) {
    snprintf(msg, sizeof msg, "vnode-cni: cannot list the addresses in %s: %s", netns, strerror(errno));
    return fail(version, 5, msg, "");
  }
  char missing[512] = "";
  size_t used = 0;
  for (int i = 0; index >= 0 && element(member(prev, "ips"), i); i++) {
    const char *ip = element(member(prev, "ips"), i);
    const char *on = member(ip, "interface");
    char text[64];
    int family, prefix;
    unsigned char addr[16];
    string(member(ip, "address"), text, sizeof text);
    if (!on || number(on) != index || !parse_cidr(text, &family, addr, &prefix) || has_addr(addrs, ifname, family, addr, prefix)) continue;
    if (used < sizeof missing) used += (size_t)snprintf(missing + used, sizeof missing - used, "%s%s", used ? ", " : "", text);
  }
  freeifaddrs(addrs);
  if (missing[0]) {
    snprintf(msg, sizeof msg, "vnode-cni: interface %s of container %s lacks address %s", ifname, id, missing);
    return fail(version, CHECK_NO_ADDR, msg, RECREATE);
  }
  return 0;
}

/* ---- GC and STATUS (CNI 1.1.0) ---- */

/* Whether the runtime's cni.dev/valid-attachments lists (id, ifname). */
static int listed(const char *valid, const char *id, const char *ifname) {
  for (int i = 0; element(valid, i); i++) {
    char cid[256], ifn[64];
    string(member(element(valid, i), "containerID"), cid, sizeof cid);
    string(member(element(valid, i), "ifname"), ifn, sizeof ifn);
    if (!strcmp(cid, id) && (!ifn[0] || !strcmp(ifn, ifname))) return 1;
  }
  return 0;
}

/*
 * GC: cni.dev/valid-attachments lists the attachments the runtime still has. Every
 * marker of this network (by its "network"; a marker without one, from an older
 * vnode-cni, counts as this network's) whose container and interface are not listed is
 * removed: its DEL never came (a containerd that lost its state, a node that rebooted
 * without tmpfs /run). So is a temporary file whose ADD process is gone. The manager
 * refuses a sandbox without a marker, so a removed marker cannot let a pod in.
 */
static int gc(const char *version, const char *conf, const char *dir) {
  const char *valid = member(conf, "cni.dev/valid-attachments");
  if (!valid || *valid != '[') {
    return fail(version, 7, "vnode-cni: GC without cni.dev/valid-attachments: the runtime must list the attachments it still has",
                "pass the list (empty when no attachment is valid); vnode-cni removes nothing without it");
  }
  char network[256];
  string(member(conf, "name"), network, sizeof network);
  DIR *d = opendir(dir);
  if (!d) return 0; /* no state directory: nothing was ever attached */
  for (struct dirent *e; (e = readdir(d));) {
    const char *name = e->d_name, *dot = strrchr(name, '.');
    char path[768];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (dot && !strcmp(dot, ".tmp")) {
      /* <id>.json.<pid>.tmp: an ADD that died between writing and renaming */
      const char *pidp = dot;
      while (pidp > name && isdigit((unsigned char)pidp[-1])) pidp--;
      long pid = strtol(pidp, NULL, 10);
      if (pid > 0 && kill((pid_t)pid, 0) && errno == ESRCH) unlink(path);
      continue;
    }
    if (!dot || strcmp(dot, ".json")) continue;
    FILE *f = fopen(path, "r");
    char *marker = f ? read_all(f) : NULL;
    if (f) fclose(f);
    char id[256], ifname[64], owner[256];
    string(member(marker, "containerId"), id, sizeof id);
    string(member(marker, "ifname"), ifname, sizeof ifname);
    string(member(marker, "network"), owner, sizeof owner);
    int mine = member(marker, "network") == NULL || !strcmp(owner, network);
    free(marker);
    if (id[0] && mine && !listed(valid, id, ifname)) unlink(path);
  }
  closedir(d);
  return 0;
}

/* STATUS: ready when ADD can write its marker (the manager refuses a sandbox without one). */
static int status(const char *version, const char *dir) {
  if (!mkdirs(dir) && !access(dir, W_OK | X_OK)) return 0;
  char msg[768];
  snprintf(msg, sizeof msg, "vnode-cni: cannot write its state directory %s: %s", json_safe(dir) ? dir : "(unprintable)", strerror(errno));
  return fail(version, 50, msg, "vnode-cni records there each pod it attaches and the vnode manager refuses pods without that record; make it a directory containerd can write (the network configuration's stateDir, else $VNODE_RUN_DIR/cni, else /run/vnode/cni)");
}

int main(void) {
  const char *cmd = getenv("CNI_COMMAND");
  if (!cmd) {
    fprintf(stderr, "vnode-cni: a CNI plugin; containerd runs it (CNI_COMMAND is not set)\n");
    return 1;
  }
  if (!strcmp(cmd, "VERSION")) {
    printf("{\"cniVersion\":\"1.1.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\",\"1.1.0\"]}\n");
    return 0;
  }
  char *conf = read_all(stdin);
  if (!conf) return fail("1.0.0", 5, "vnode-cni: cannot read the network configuration", "");
  char version[32];
  string(member(conf, "cniVersion"), version, sizeof version);
  if (!version[0]) snprintf(version, sizeof version, "1.0.0");
  const char *id = getenv("CNI_CONTAINERID");
  char dir[512];
  state_dir(conf, dir, sizeof dir);
  if (!strcmp(cmd, "DEL")) {
    /* DEL may come twice, or for an ADD that failed: a missing marker is fine */
    if (plain_id(id)) {
      char path[768];
      snprintf(path, sizeof path, "%s/%s.json", dir, id);
      unlink(path);
    }
    return 0;
  }
  if (!strcmp(cmd, "CHECK")) return check(version, conf, dir, id);
  if (!strcmp(cmd, "GC") || !strcmp(cmd, "STATUS")) {
    if (!version_at_least(version, 1, 1)) {
      char msg[256];
      snprintf(msg, sizeof msg, "vnode-cni: %s needs cniVersion 1.1.0 or later, the network configuration says %s", cmd, version);
      return fail(version, 1, msg, "");
    }
    return !strcmp(cmd, "GC") ? gc(version, conf, dir) : status(version, dir);
  }
  if (strcmp(cmd, "ADD")) {
    char msg[256];
    snprintf(msg, sizeof msg, "vnode-cni: unknown CNI_COMMAND %.64s", json_safe(cmd) ? cmd : "(unprintable)");
    return fail(version, 4, msg, "CNI commands are ADD, DEL, CHECK, GC, STATUS and VERSION");
  }

  const char *mappings = member(member(conf, "runtimeConfig"), "portMappings");
  if (mappings && *mappings == '[') {
    char ports[512] = "", ns[128], pod[256];
    size_t used = 0;
    int count = 0;
    for (const char *p = ws(mappings + 1); *p == '{';) {
      char proto[16], ip[64];
      string(either(p, "protocol", "Protocol"), proto, sizeof proto);
      string(either(p, "hostIP", "HostIP"), ip, sizeof ip);
      long host = number(either(p, "hostPort", "HostPort")), ctr = number(either(p, "containerPort", "ContainerPort"));
      if (used < sizeof ports)
        used += (size_t)snprintf(ports + used, sizeof ports - used, "%scontainer port %ld/%s on host port %ld%s%s", count ? ", " : "", ctr,
                                 proto[0] ? proto : "tcp", host, ip[0] ? " of host IP " : "", ip);
      count++;
      p = skip(p);
      if (!p) break;
      p = ws(p);
      if (*p == ',') p = ws(p + 1);
    }
    if (count > 0) {
      cni_arg("K8S_POD_NAMESPACE", ns, sizeof ns);
      cni_arg("K8S_POD_NAME", pod, sizeof pod);
      char msg[1024];
      snprintf(msg, sizeof msg, "pod %s/%s asks for %s: hostPort/hostIP is not supported in a vNode (the host's ports are outside a tenant's isolation)", ns, pod, ports);
      return fail(version, 2, msg, "remove hostPort and hostIP from the pod's ports and reach it through a Service (ClusterIP, NodePort or LoadBalancer)");
    }
  }
  const char *prev = member(conf, "prevResult");
  const char *end = prev ? skip(prev) : NULL;
  if (!end || *prev != '{') {
    return fail(version, 7, "vnode-cni: no previous result: it must come last in a chain whose earlier plugins create the pod's interface",
                "put vnode-cni after the cluster's network plugins in the vnode runtime's conflist");
  }
  const char *netns = getenv("CNI_NETNS"), *ifname = getenv("CNI_IFNAME");
  if (!plain_id(id)) return fail(version, 4, "vnode-cni: CNI_CONTAINERID is missing or not a plain container ID", "");
  if (!netns || netns[0] != '/' || !json_safe(netns) || !ifname || !json_safe(ifname)) {
    return fail(version, 4, "vnode-cni: CNI_NETNS must be the path of the pod's network namespace and CNI_IFNAME a plain name", "");
  }
  char ns[128], pod[256];
  cni_arg("K8S_POD_NAMESPACE", ns, sizeof ns);
  cni_arg("K8S_POD_NAME", pod, sizeof pod);
  char network[256];
  string(member(conf, "name"), network, sizeof network);
  if (write_marker(dir, id, network, netns, ifname, ns, pod)) {
    char msg[768];
    snprintf(msg, sizeof msg, "vnode-cni: cannot write its marker below %s", json_safe(dir) ? dir : "its state directory");
    return fail(version, 5, msg, "the vnode manager refuses sandboxes without it; check that the directory is writable by containerd");
  }
  fwrite(prev, 1, (size_t)(end - prev), stdout);
  putchar('\n');
  return 0;
}
