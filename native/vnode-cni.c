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
 * DEL removes the marker. The state dir is the network config's "stateDir", else
 * $VNODE_RUN_DIR/cni, else /run/vnode/cni.
 *
 * C, not Node.js: it runs for every pod sandbox, and Node.js's start-up alone would be
 * a tenth of a pod's start time.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <sys/stat.h>
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
static int write_marker(const char *dir, const char *id, const char *netns, const char *ifname, const char *ns, const char *pod) {
  char path[768], tmp[800];
  snprintf(path, sizeof path, "%s/%s.json", dir, id);
  snprintf(tmp, sizeof tmp, "%s.%d.tmp", path, (int)getpid());
  if (mkdirs(dir)) return -1;
  FILE *f = fopen(tmp, "w");
  if (!f) return -1;
  fprintf(f, "{\"version\":1,\"containerId\":\"%s\",\"netns\":\"%s\",\"ifname\":\"%s\",\"podNamespace\":\"%s\",\"podName\":\"%s\"}\n", id, netns, ifname, ns, pod);
  if (fclose(f) || rename(tmp, path)) {
    unlink(tmp);
    return -1;
  }
  return 0;
}

int main(void) {
  const char *cmd = getenv("CNI_COMMAND");
  if (!cmd) {
    fprintf(stderr, "vnode-cni: a CNI plugin; containerd runs it (CNI_COMMAND is not set)\n");
    return 1;
  }
  if (!strcmp(cmd, "VERSION")) {
    printf("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.3.0\",\"0.3.1\",\"0.4.0\",\"1.0.0\"]}\n");
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
  if (strcmp(cmd, "ADD")) return 0; /* CHECK, GC, STATUS: the manager checks the moved links */

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
  if (write_marker(dir, id, netns, ifname, ns, pod)) {
    char msg[768];
    snprintf(msg, sizeof msg, "vnode-cni: cannot write its marker below %s", json_safe(dir) ? dir : "its state directory");
    return fail(version, 5, msg, "the vnode manager refuses sandboxes without it; check that the directory is writable by containerd");
  }
  fwrite(prev, 1, (size_t)(end - prev), stdout);
  putchar('\n');
  return 0;
}
