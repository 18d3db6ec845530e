// What kind of node this is: which container runtime kubelet uses (CRI-O, cri-dockerd and
// Docker Engine are refused), which containerd process reads the config, and its version.
//
// Paths are host paths; `host` maps them below --host-root (the DaemonSet's init
// container sees the node's / at /host). Processes are found in /proc as it is: the
// init container runs with hostPID, and a process's /proc/PID/exe runs the node's own
// containerd binary from any mount namespace.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { InstallError } from './errors.js';

/** Maps host paths below a host root ('/' on the node itself). */
export interface HostRoot {
  root: string;
  /** The local path of a host path. */
  path(hostPath: string): string;
}

export function hostRoot(root = '/'): HostRoot {
  const r = resolve(root);
  return { root: r, path: (p) => (r === '/' ? resolve(p) : join(r, resolve('/', p))) };
}

interface OtherRuntime {
  name: string;
  /** Host paths whose presence shows it. */
  paths: string[];
  why: string;
}

const OTHER_RUNTIMES: OtherRuntime[] = [
  { name: 'CRI-O', paths: ['/run/crio/crio.sock', '/var/run/crio/crio.sock'], why: 'kubelet talks to CRI-O, which has no shim v2 runtimes (io.containerd.vnode.v2 is a containerd shim)' },
  { name: 'cri-dockerd', paths: ['/run/cri-dockerd.sock', '/var/run/cri-dockerd.sock'], why: 'kubelet talks to Docker Engine through cri-dockerd, which runs no RuntimeClass handlers of its own' },
];

/** kubelet's --container-runtime-endpoint / containerRuntimeEndpoint, when the node says. */
export function kubeletRuntimeEndpoint(h: HostRoot): string | undefined {
  const flags = readText(h.path('/var/lib/kubelet/kubeadm-flags.env'));
  const m = flags && /--container-runtime-endpoint[= ]"?([^"\s]+)/.exec(flags);
  if (m) return m[1];
  const cfg = readText(h.path('/var/lib/kubelet/config.yaml'));
  const c = cfg && /^containerRuntimeEndpoint:\s*"?([^"\s]+)/m.exec(cfg);
  return c ? c[1] : undefined;
}

/**
 * Refuses nodes whose kubelet does not run pods through containerd's CRI: CRI-O,
 * cri-dockerd (Docker Engine), or a containerd with CRI disabled (Docker Engine's own).
 */
export function refuseOtherRuntimes(h: HostRoot, configData: Record<string, any> | undefined, configPath: string): void {
  const endpoint = kubeletRuntimeEndpoint(h) ?? '';
  for (const r of OTHER_RUNTIMES) {
    const seen = r.paths.find((p) => existsSync(h.path(p))) ?? (endpoint.includes(r.name === 'CRI-O' ? 'crio' : 'cri-dockerd') ? endpoint : undefined);
    if (seen) throw new InstallError('UNSUPPORTED_RUNTIME', `this node runs ${r.name} (${seen}): ${r.why}; vnode installs into containerd 1.6, 1.7 and 2.x only`);
  }
  const disabled: unknown[] = Array.isArray(configData?.['disabled_plugins']) ? configData['disabled_plugins'] : [];
  if (disabled.some((p) => p === 'cri' || p === 'io.containerd.grpc.v1.cri')) {
    const docker = ['/run/docker.sock', '/var/run/docker.sock'].find((p) => existsSync(h.path(p)));
    throw new InstallError('UNSUPPORTED_RUNTIME', `${configPath} disables containerd's CRI plugin${docker ? ` (the containerd of Docker Engine, ${docker})` : ''}: kubelet cannot reach runtime handlers through it; vnode installs into a containerd that kubelet uses through CRI`);
  }
  if (!configData && !existsSync(h.path(configPath)) && ['/run/docker.sock', '/var/run/docker.sock'].some((p) => existsSync(h.path(p))) && !existsSync(h.path('/run/containerd/containerd.sock'))) {
    throw new InstallError('UNSUPPORTED_RUNTIME', 'this node runs Docker Engine without a CRI containerd: Docker has no RuntimeClass handlers; vnode installs into containerd 1.6, 1.7 and 2.x only');
  }
}

export interface ContainerdProcess {
  pid: number;
  /** /proc/PID/exe: runs the node's binary from any mount namespace. */
  exe: string;
  argv: string[];
  /** The systemd unit whose cgroup it is in (e.g. containerd.service), if any. */
  unit?: string;
}

function readText(p: string): string | undefined {
  try { return readFileSync(p, 'utf8'); } catch { return undefined; }
}

/** The config a containerd command line reads (--config/-c, default /etc/containerd/config.toml). */
export function configOfArgv(argv: string[]): string {
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if ((a === '--config' || a === '-c') && argv[i + 1]) return argv[i + 1]!;
    const m = /^(?:--config|-c)=(.+)$/.exec(a);
    if (m) return m[1]!;
  }
  return '/etc/containerd/config.toml';
}

/** The systemd unit of a cgroup file's unified (or name=systemd) line, e.g. "containerd.service". */
export function unitOfCgroup(cgroup: string): string | undefined {
  for (const line of cgroup.split('\n')) {
    const [, ctrl, path] = line.split(':');
    if (path === undefined || (ctrl !== '' && ctrl !== 'name=systemd')) continue;
    const m = /\/([^/]+\.service)$/.exec(path);
    if (m) return m[1];
  }
  return undefined;
}

/** dev:ino of a file, or undefined. */
function fileId(p: string): string | undefined {
  try { const st = statSync(p); return `${st.dev}:${st.ino}`; } catch { return undefined; }
}

/**
 * The containerd daemon that reads this config: the process whose --config (default
 * /etc/containerd/config.toml), seen from its own root and working directory
 * (/proc/PID/root, /proc/PID/cwd), is the very file we edit (same device and inode). So a
 * DaemonSet's view of the node below /host, and a stand-in host root in tests, both find
 * the right process, and another containerd on the machine is never taken for it.
 */
export function findContainerd(configHostPath: string, h: HostRoot): ContainerdProcess | undefined {
  const want = fileId(h.path(configHostPath));
  if (!want) return undefined;
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    let exe: string;
    try { exe = readlinkSync(`/proc/${pid}/exe`); } catch { continue; }
    if (basename(exe.replace(/ \(deleted\)$/, '')) !== 'containerd') continue;
    const argv = (readText(`/proc/${pid}/cmdline`) ?? '').split('\0').filter(Boolean);
    if (argv.length > 1 && !argv[1]!.startsWith('-')) continue; // a subcommand (containerd config dump ...), not the daemon
    let cfg = configOfArgv(argv);
    try { cfg = resolve(readlinkSync(`/proc/${pid}/cwd`), cfg); } catch { continue; }
    if (fileId(`/proc/${pid}/root${cfg}`) !== want) continue;
    return { pid, exe: `/proc/${pid}/exe`, argv, unit: unitOfCgroup(readText(`/proc/${pid}/cgroup`) ?? '') };
  }
  return undefined;
}

export interface ContainerdVersion {
  /** As printed, e.g. "1.7.24~ds1" or "2.1.9+unknown". */
  text: string;
  major: number;
  minor: number;
}

/** "containerd github.com/containerd/containerd/v2 2.1.9+unknown" → 2.1. */
export function parseContainerdVersion(out: string): ContainerdVersion | undefined {
  const m = /\bv?(\d+)\.(\d+)\.\d+\S*/.exec(out.split(/\s+/).slice(2).join(' ')) ?? /\bv?(\d+)\.(\d+)\.\d+\S*/.exec(out);
  return m ? { text: m[0].replace(/^v/, ''), major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

/** The version of the running containerd, or else of the node's containerd binary. */
export function containerdVersion(proc: ContainerdProcess | undefined, h: HostRoot): ContainerdVersion | undefined {
  const candidates = proc ? [proc.exe] : ['/usr/local/bin/containerd', '/usr/bin/containerd', '/usr/local/sbin/containerd', '/usr/sbin/containerd'].map(h.path).filter((p) => existsSync(p));
  for (const bin of candidates) {
    try {
      const v = parseContainerdVersion(execFileSync(bin, ['--version'], { encoding: 'utf8', timeout: 10_000 }));
      if (v) return v;
    } catch { /* cannot run it from here (another libc in a container): next */ }
  }
  return undefined;
}

export function checkContainerdVersion(v: ContainerdVersion): void {
  if (v.major < 1 || (v.major === 1 && v.minor < 6)) {
    throw new InstallError('UNSUPPORTED_RUNTIME', `containerd ${v.text} is too old: vnode needs containerd 1.6, 1.7 or 2.x`);
  }
}
