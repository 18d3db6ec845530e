// containerd's configuration for a containerd that vnode (or its tests) starts: version 2
// tables for 1.6/1.7, version 3 for 2.x, with the settings this runtime needs
// (restrict_oom_score_adj, a local sandbox image, a CNI bridge, the vnode and runc
// runtimes). One builder, so the CLI and the tests run the same configuration.
import { VNODE_NAME_ANNOTATION } from '../oci/index.js';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ContainerdConfigInput {
  /** containerd's major version: 1 writes config version 2, 2 writes version 3. */
  major: number;
  root: string;
  state: string;
  address: string;
  ttrpcAddress: string;
  /** containerd's own directory (the opt plugin's path goes below it). */
  dir: string;
  cniConfDir: string;
  /** CNI plugins directory (cniBinDir() makes one with vnode-cni); default /usr/lib/cni. */
  cniBinDir?: string;
  /** The vnode runtime's own CNI config directory (vnodeConflist), so vnode-cni runs for its pods only. */
  vnodeCniConfDir?: string;
  sandboxImage: string;
  defaultRuntime: 'vnode' | 'runc';
  /** runc's state root for the runc runtime (default: runc's own). */
  runcRoot?: string;
  logLevel?: string;
  /** Pod network namespaces under containerd's state dir instead of /var/run/netns. */
  netnsUnderStateDir?: boolean;
  /**
   * Absolute path of containerd-shim-vnode-v2. With containerd 2.x the vnode runtime is
   * then declared as runtime_type io.containerd.runc.v2 with runtime_path = this: CRI
   * 2.1–2.3 introspect the features (`-info`) only of handlers of that type, and list
   * none for the vnode handler otherwise (docs/runtime.md, Runtime features).
   */
  vnodeShim?: string;
}

export function containerdConfig(i: ContainerdConfigInput): Record<string, any> {
  const runc = { runtime_type: 'io.containerd.runc.v2', options: { SystemdCgroup: false, ...(i.runcRoot ? { Root: i.runcRoot } : {}) } };
  // containerd 2.1-2.3 read runtime features (CRI Status) only of handlers typed
  // io.containerd.runc.v2: on 2.x vnode's own containerd declares the vnode shim that way,
  // as vnode install and the test harness do.
  const vnode = vnodeRuntime({ cniConfDir: i.vnodeCniConfDir, ...(i.major >= 2 && i.vnodeShim ? { runcTypedShim: i.vnodeShim } : {}) });
  const bin = i.cniBinDir ?? '/usr/lib/cni';
  const runtimes = { vnode, runc };
  const common = {
    root: i.root,
    state: i.state,
    grpc: { address: i.address },
    ttrpc: { address: i.ttrpcAddress },
    ...(i.logLevel ? { debug: { level: i.logLevel } } : {}),
  };
  const netns = i.netnsUnderStateDir ? { netns_mounts_under_state_dir: true } : {};
  const stream = { stream_server_address: '127.0.0.1', stream_server_port: '0' };
  const nri = { disable: true };
  const opt = { path: join(i.dir, 'opt') };
  if (i.major >= 2) {
    return {
      version: 3,
      ...common,
      plugins: {
        'io.containerd.cri.v1.images': { snapshotter: 'overlayfs', pinned_images: { sandbox: i.sandboxImage } },
        'io.containerd.cri.v1.runtime': {
          restrict_oom_score_adj: true,
          ...netns,
          enable_cdi: false,
          cni: { bin_dirs: [bin], conf_dir: i.cniConfDir, max_conf_num: 1 },
          containerd: { default_runtime_name: i.defaultRuntime, runtimes },
        },
        'io.containerd.grpc.v1.cri': stream,
        'io.containerd.nri.v1.nri': nri,
        'io.containerd.internal.v1.opt': opt,
      },
    };
  }
  return {
    version: 2,
    ...common,
    plugins: {
      'io.containerd.grpc.v1.cri': {
        restrict_oom_score_adj: true,
        sandbox_image: i.sandboxImage,
        ...netns,
        ...stream,
        cni: { bin_dir: bin, conf_dir: i.cniConfDir, max_conf_num: 1 },
        containerd: { snapshotter: 'overlayfs', default_runtime_name: i.defaultRuntime, runtimes },
      },
      'io.containerd.nri.v1.nri': nri,
      'io.containerd.internal.v1.opt': opt,
    },
  };
}

/**
 * The `vnode` runtime table (the same keys in config version 2 and 3): the runtime type
 * containerd derives the shim's name from, optionally the shim's path (runtime_path, for a
 * shim outside containerd's PATH, as `vnode install` puts it), the runtime's own CNI
 * config directory, and runc-style options (SystemdCgroup follows the node's driver).
 */
export function vnodeRuntime(o: { cniConfDir?: string; runtimePath?: string; systemdCgroup?: boolean; runcTypedShim?: string }): Record<string, unknown> {
  return {
    ...(o.runcTypedShim ? { runtime_type: 'io.containerd.runc.v2', runtime_path: o.runcTypedShim } : { runtime_type: 'io.containerd.vnode.v2' }),
    ...(o.runtimePath && !o.runcTypedShim ? { runtime_path: o.runtimePath } : {}),
    ...(o.cniConfDir ? { cni_conf_dir: o.cniConfDir, cni_max_conf_num: 1 } : {}),
    ...(o.systemdCgroup ? { options: { SystemdCgroup: true } } : {}),
    // the named-vNode annotation reaches the manager only through this passthrough
    pod_annotations: [VNODE_NAME_ANNOTATION],
  };
}

/** The CRI runtimes table of a config made by containerdConfig (to add or change runtimes). */
export function runtimesOf(config: Record<string, any>, major: number): Record<string, unknown> {
  return major >= 2
    ? config['plugins']['io.containerd.cri.v1.runtime']['containerd']['runtimes']
    : config['plugins']['io.containerd.grpc.v1.cri']['containerd']['runtimes'];
}

/**
 * A CNI bridge network. Without ipMasq (tests) pod traffic stays on this machine; with
 * it (vnode's own containerd) the bridge plugin masquerades what leaves the subnet.
 */
export function bridgeConflist(o: { name: string; bridge: string; subnet: string; ipamDir: string; ipMasq?: boolean; ipv6Subnet?: string }): Record<string, unknown> {
  return {
    cniVersion: '0.4.0',
    name: o.name,
    plugins: [
      {
        type: 'bridge',
        bridge: o.bridge,
        isGateway: true,
        ipMasq: o.ipMasq ?? false,
        hairpinMode: true,
        // a default route through the bridge, as a cluster's pods have (Service IPs are routed, then DNATed, by the host)
        // with ipv6Subnet: dual-stack, an address of each family and a default route for each
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: o.subnet }], ...(o.ipv6Subnet ? [[{ subnet: o.ipv6Subnet }]] : [])],
          routes: [{ dst: '0.0.0.0/0' }, ...(o.ipv6Subnet ? [{ dst: '::/0' }] : [])],
          dataDir: o.ipamDir,
        },
      },
    ],
  };
}

/**
 * The vnode runtime's network: the same network (same name, so the same IPAM store),
 * with vnode-cni last in the chain; it refuses host ports (native/vnode-cni.c) and is
 * handed the pod's port mappings (the portMappings capability).
 */
export function vnodeConflist(base: Record<string, unknown>): Record<string, unknown> {
  return { ...base, plugins: [...(base['plugins'] as unknown[]), { type: 'vnode-cni', capabilities: { portMappings: true } }] };
}

/**
 * A CNI plugin directory for containerd: links to the host's plugins (/usr/lib/cni) and
 * to vnode-cni. containerd 1.7 takes a single plugin directory, so one that holds both.
 */
export function cniBinDir(dir: string, vnodeCni: string, hostPlugins = '/usr/lib/cni'): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const name of existsSync(hostPlugins) ? readdirSync(hostPlugins) : []) symlinkSync(join(hostPlugins, name), join(dir, name));
  symlinkSync(vnodeCni, join(dir, 'vnode-cni'));
  return dir;
}

/**
 * Writes a started containerd's CNI setup below `cniDir`: net.d/<file> (the network every
 * runtime uses), vnode.d/<file> (the same with vnode-cni, for the vnode runtime) and bin/.
 * Returns the containerdConfig inputs that point at them.
 */
export type CniFiles = Pick<ContainerdConfigInput, 'cniConfDir'> & Required<Pick<ContainerdConfigInput, 'vnodeCniConfDir' | 'cniBinDir'>>;

export function writeCniConfig(cniDir: string, file: string, network: Record<string, unknown>, vnodeCni: string): CniFiles {
  const out = { cniConfDir: join(cniDir, 'net.d'), vnodeCniConfDir: join(cniDir, 'vnode.d'), cniBinDir: join(cniDir, 'bin') };
  for (const d of [out.cniConfDir, out.vnodeCniConfDir]) mkdirSync(d, { recursive: true, mode: 0o711 });
  writeFileSync(join(out.cniConfDir, file), JSON.stringify(network, null, 2) + '\n');
  writeFileSync(join(out.vnodeCniConfDir, file), JSON.stringify(vnodeConflist(network), null, 2) + '\n');
  cniBinDir(out.cniBinDir, vnodeCni);
  return out;
}

/** A random 10.2xx.y.0/24 that no address or route on this machine uses, or undefined. */
export function freeSubnet(): string | undefined {
  let used = '';
  try {
    used = execFileSync('ip', ['-4', '-o', 'addr'], { encoding: 'utf8' }) + execFileSync('ip', ['-4', 'route'], { encoding: 'utf8' });
  } catch {
    /* no iproute2: nothing known to avoid */
  }
  for (let i = 0; i < 100; i++) {
    const [a, b] = randomBytes(2);
    const prefix = `10.${200 + (a! % 50)}.${b!}.`;
    if (!used.includes(prefix)) return `${prefix}0/24`;
  }
  return undefined;
}
