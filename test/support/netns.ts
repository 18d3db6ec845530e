// Network namespaces, CNI calls and user-namespace holders for tests of pod
// networking: namespaces the test makes itself, the host's real CNI plugins
// (/usr/lib/cni), traffic only between those namespaces.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freeSubnet } from '../../src/install/containerd-config.js';

export const CNI_BIN = '/usr/lib/cni';

/** A network namespace persisted by a bind mount at `path`, as containerd makes one. */
export function makeNetns(path: string): string {
  closeSync(openSync(path, 'w'));
  execFileSync('unshare', [`--net=${path}`, 'true']);
  return path;
}

/** Unmounts and removes a namespace file, as containerd's NetNS.Remove does. */
export function removeNetns(path: string): void {
  if (!existsSync(path)) return;
  try {
    execFileSync('umount', ['-l', path], { stdio: 'ignore' });
  } catch { /* not mounted */ }
  rmSync(path, { force: true });
}

export interface BridgeNet {
  name: string;
  bridge: string;
  subnet: string;
  gateway: string;
  ipamDir: string;
  conf: string;
}

/** A bridge + host-local network like the one the test containerd uses, with a default route and no NAT. */
export function bridgeNet(dir: string, name: string, bridge: string): BridgeNet {
  const subnet = freeSubnet();
  if (!subnet) throw new Error('no free 10.2xx.y.0/24 subnet');
  const ipamDir = join(dir, 'ipam');
  const conf = JSON.stringify({
    cniVersion: '0.4.0',
    name,
    type: 'bridge',
    bridge,
    isGateway: true,
    ipMasq: false,
    hairpinMode: true,
    ipam: { type: 'host-local', ranges: [[{ subnet }]], routes: [{ dst: '0.0.0.0/0' }], dataDir: ipamDir },
  });
  return { name, bridge, subnet, gateway: subnet.replace(/0\/24$/, '1'), ipamDir, conf };
}

/** Runs the bridge plugin as containerd would (CNI_ARGS with the pod's names); returns its result. */
export function cni(net: BridgeNet, command: 'ADD' | 'DEL' | 'CHECK', id: string, netns: string): Record<string, any> {
  const out = execFileSync(join(CNI_BIN, 'bridge'), {
    input: net.conf,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      CNI_COMMAND: command,
      CNI_CONTAINERID: id,
      CNI_NETNS: netns,
      CNI_IFNAME: 'eth0',
      CNI_PATH: CNI_BIN,
      CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=net-test;K8S_POD_NAME=${id};K8S_POD_INFRA_CONTAINER_ID=${id}`,
    },
  });
  return out.trim() ? (JSON.parse(out) as Record<string, any>) : {};
}

/** IP leases host-local holds for this network. */
export function leases(net: BridgeNet): string[] {
  const d = join(net.ipamDir, net.name);
  return existsSync(d) ? readdirSync(d).filter((f) => /^\d+\.\d+\.\d+\.\d+$/.test(f)) : [];
}

/** Host interfaces enslaved to the network's bridge (the host ends of the pods' veths). */
export function bridgePorts(net: BridgeNet): string[] {
  try {
    return (JSON.parse(execFileSync('ip', ['-j', 'link', 'show', 'master', net.bridge], { encoding: 'utf8' }) || '[]') as { ifname: string }[]).map((l) => l.ifname);
  } catch {
    return [];
  }
}

export function deleteBridge(net: BridgeNet): void {
  try {
    execFileSync('ip', ['link', 'del', net.bridge], { stdio: 'ignore' });
  } catch { /* not there */ }
}

/**
 * A stand-in for a vNode: a process in a new user namespace (root mapped to
 * `uidBase`..+65535) with its own network namespace, as the OCI runtime makes for a
 * sandbox inside the vNode's user namespace.
 */
export async function usernsHolder(uidBase = 200000): Promise<ChildProcess & { pid: number }> {
  const child = spawn('unshare', ['--user', '--net', '--', 'sleep', '3600'], { stdio: 'ignore' });
  const pid = child.pid;
  if (pid === undefined) throw new Error('cannot start unshare');
  // the user namespace exists once the child has exec'd sleep
  for (let i = 0; i < 200 && !readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'); i++) await new Promise((r) => setTimeout(r, 5));
  writeFileSync(`/proc/${pid}/uid_map`, `0 ${uidBase} 65536\n`);
  writeFileSync(`/proc/${pid}/gid_map`, `0 ${uidBase} 65536\n`);
  return child as ChildProcess & { pid: number };
}

/** Runs a command as root of the holder's user namespace, in its network namespace. */
export function inUserns(pid: number, args: string[]): string {
  return execFileSync('nsenter', ['-t', String(pid), '--user', '--net', '--', ...args], { encoding: 'utf8' });
}

export function inNetns(netns: string, args: string[]): string {
  return execFileSync('nsenter', [`--net=${netns}`, '--', ...args], { encoding: 'utf8' });
}
