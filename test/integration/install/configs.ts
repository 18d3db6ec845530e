// Realistic, hand-written containerd configs for the install tests: what a kubeadm node's
// config looks like (comments, the runc runtime with its cgroup driver, an extra runtime,
// registry mirrors), with the private instance's paths filled in from the harness's
// config object (and runc's SystemdCgroup: the harness's cgroup driver). No vnode runtime:
// install adds it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** runc's SystemdCgroup in the harness's config object (true under the systemd driver). */
const sc = (runc: { options?: { SystemdCgroup?: unknown } }): boolean => runc.options?.SystemdCgroup === true;

/** Version 2 (containerd 1.6 / 1.7). */
export function kubeadmV2(c: Record<string, any>): string {
  const cri = c['plugins']['io.containerd.grpc.v1.cri'];
  const runc = cri.containerd.runtimes.runc;
  return `# /etc/containerd/config.toml of a kubeadm node: \`containerd config default\`, then edited
# (SystemdCgroup, registry mirrors, a crun runtime for batch jobs).
version = 2
root = "${c['root']}"
state = "${c['state']}"
oom_score = 0

[grpc]
  address = "${c['grpc'].address}"

[ttrpc]
  address = "${c['ttrpc'].address}"

[debug]
  level = "info"

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "${cri.sandbox_image}"
    restrict_oom_score_adj = true # root lacks CAP_SYS_RESOURCE on this machine
    netns_mounts_under_state_dir = true
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "${cri.cni.bin_dir}"
      conf_dir = "${cri.cni.conf_dir}"
      max_conf_num = 1
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          ${sc(runc) ? "# kubelet's cgroupDriver: systemd (kubeadm's default)" : "# kubelet's cgroupDriver: cgroupfs on this test machine (no systemd); kubeadm's default is systemd"}
          SystemdCgroup = ${sc(runc)}
          Root = "${runc.options.Root}"
      # crun for batch nodes, with the systemd cgroup driver
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.crun.options]
          BinaryName = "/usr/bin/crun"
          SystemdCgroup = true
    [plugins."io.containerd.grpc.v1.cri".registry]
      [plugins."io.containerd.grpc.v1.cri".registry.mirrors]
        [plugins."io.containerd.grpc.v1.cri".registry.mirrors."docker.io"]
          endpoint = ["https://mirror.example.internal", "https://registry-1.docker.io"]

  [plugins."io.containerd.nri.v1.nri"]
    disable = true

  [plugins."io.containerd.internal.v1.opt"]
    path = "${c['plugins']['io.containerd.internal.v1.opt'].path}"
`;
}

/** Version 3 (containerd 2.x); mirrors as hosts.toml below `certsDir` (written here). */
export function kubeadmV3(c: Record<string, any>, certsDir: string): string {
  const images = c['plugins']['io.containerd.cri.v1.images'];
  const rt = c['plugins']['io.containerd.cri.v1.runtime'];
  const runc = rt.containerd.runtimes.runc;
  mkdirSync(join(certsDir, 'docker.io'), { recursive: true });
  writeFileSync(join(certsDir, 'docker.io', 'hosts.toml'), 'server = "https://registry-1.docker.io"\n\n[host."https://mirror.example.internal"]\n  capabilities = ["pull", "resolve"]\n');
  return `# /etc/containerd/config.toml of a kubeadm node running containerd 2.x
version = 3
root = '${c['root']}'
state = '${c['state']}'

[grpc]
  address = '${c['grpc'].address}'

[ttrpc]
  address = '${c['ttrpc'].address}'

[plugins]
  [plugins.'io.containerd.cri.v1.images']
    snapshotter = 'overlayfs'

    [plugins.'io.containerd.cri.v1.images'.pinned_images]
      sandbox = '${images.pinned_images.sandbox}'

    [plugins.'io.containerd.cri.v1.images'.registry]
      config_path = '${certsDir}' # registry mirrors: hosts.toml per registry

  [plugins.'io.containerd.cri.v1.runtime']
    restrict_oom_score_adj = true # root lacks CAP_SYS_RESOURCE on this machine
    netns_mounts_under_state_dir = true
    enable_cdi = false

    [plugins.'io.containerd.cri.v1.runtime'.cni]
      bin_dirs = ['${rt.cni.bin_dirs[0]}']
      conf_dir = '${rt.cni.conf_dir}'
      max_conf_num = 1

    [plugins.'io.containerd.cri.v1.runtime'.containerd]
      default_runtime_name = 'runc'

      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
        runtime_type = 'io.containerd.runc.v2'

        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
          ${sc(runc) ? "# kubelet's cgroupDriver: systemd (kubeadm's default)" : "# cgroupfs on this test machine (no systemd); kubeadm's default is systemd"}
          SystemdCgroup = ${sc(runc)}
          Root = '${runc.options.Root}'

      # crun for batch nodes, with the systemd cgroup driver
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.crun]
        runtime_type = 'io.containerd.runc.v2'

        [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.crun.options]
          BinaryName = '/usr/bin/crun'
          SystemdCgroup = true

  [plugins.'io.containerd.grpc.v1.cri']
    stream_server_address = '127.0.0.1'
    stream_server_port = '0'

  [plugins.'io.containerd.nri.v1.nri']
    disable = true

  [plugins.'io.containerd.internal.v1.opt']
    path = '${c['plugins']['io.containerd.internal.v1.opt'].path}'
`;
}
