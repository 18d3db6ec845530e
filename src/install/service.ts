// `vnode install --service`: vnode-manager as a systemd service, for nodes outside
// Kubernetes. Without it the first vnode pod's shim `start` spawns the manager (and it
// then lives in containerd's cgroup); the unit makes it a service of its own that starts
// with the node and is restarted when it fails.
//
// KillMode=process: stopping or restarting the unit stops the manager only; vNodes and
// their pods (per-container monitors, vnode-init) keep running, and the next manager
// takes them over (the manager survives restarts).
import { HEALTHZ_ADDRESS } from './doctor.js';
import { managerInstance, ManagerEnv } from '../shim/index.js';

export const SERVICE_UNIT = 'vnode-manager.service';
export const SERVICE_PATH = `/etc/systemd/system/${SERVICE_UNIT}`;

export interface ServiceInput {
  prefix: string;
  /** containerd's gRPC address (the manager serves this containerd). */
  address: string;
  ttrpcAddress: string;
  /** The containerd unit to start after (e.g. containerd.service). */
  containerdUnit: string;
  /** The vnode runtime's cni_conf_dir and containerd's CNI bin dir: a hostNetwork pod's vNode joins the pod network with them. */
  cni?: { confDir: string; binDirs: string[] };
}

export function serviceUnit(i: ServiceInput): string {
  const inst = managerInstance(i.address, {});
  return `# Written by vnode install --service; vnode uninstall removes it.
[Unit]
Description=vnode manager: the vnode runtime's shim for every vNode task on this node
After=${i.containerdUnit}
Wants=${i.containerdUnit}

[Service]
Type=simple
ExecStart=${i.prefix}/bin/vnode-manager
Environment=${ManagerEnv.socket}=${inst.socket}
Environment=${ManagerEnv.containerdAddress}=${i.address}
Environment=${ManagerEnv.containerdTtrpcAddress}=${i.ttrpcAddress}
Environment=TTRPC_ADDRESS=${i.ttrpcAddress}
Environment=GRPC_ADDRESS=${i.address}
Environment=UV_THREADPOOL_SIZE=8
# systemd restarts a manager that died (Restart=always); vnode-hold does not start one beside it
Environment=VNODE_MANAGER_RESPAWN=false
${i.cni ? `# the vnode runtime's CNI chain, for the vNode of a hostNetwork pod (VNODE_ALLOW_HOST_NETWORK=true in the EnvironmentFile allows those)
Environment=VNODE_CNI_CONF_DIR=${i.cni.confDir}
Environment=VNODE_CNI_BIN_DIRS=${i.cni.binDirs.join(':')}
` : ''}# /metrics and /healthz where the DaemonSet's probes and doctor look (the default is a socket)
Environment=VNODE_METRICS_ADDRESS=${HEALTHZ_ADDRESS}
# VNODE_PER_POD=true (one vNode per pod instead of per namespace) and the like:
EnvironmentFile=-${i.prefix}/etc/vnode-manager.env
WorkingDirectory=${inst.dir}
RuntimeDirectory=vnode/${inst.id}
RuntimeDirectoryPreserve=yes
KillMode=process
Delegate=yes
Restart=always
RestartSec=2
LimitNOFILE=1048576
TasksMax=infinity
OOMScoreAdjust=-500

[Install]
WantedBy=multi-user.target
`;
}
