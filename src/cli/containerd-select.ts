// Which containerd `vnode run` talks to:
//   1. --containerd ADDRESS, else CONTAINERD_ADDRESS;
//   2. the system's /run/containerd/containerd.sock, if it answers CRI and has a `vnode` handler;
//   3. vnode's own containerd (started and configured on first use, see containerd-local.ts).
import { existsSync } from 'node:fs';
import { CriClient, runtimeHandlerNames } from '../k8s/cri/index.js';
import { CliError } from './errors.js';
import { ensureLocalContainerd, type LocalContainerd } from './containerd-local.js';
import type { Progress } from './output.js';

export const SYSTEM_SOCKET = '/run/containerd/containerd.sock';

/** Where the system's containerd is looked for: /run/containerd/containerd.sock, or VNODE_SYSTEM_CONTAINERD (tests). */
export function systemSocket(env: NodeJS.ProcessEnv = process.env): string {
  return env.VNODE_SYSTEM_CONTAINERD || SYSTEM_SOCKET;
}

export interface SelectedContainerd {
  address: string;
  source: 'flag' | 'env' | 'system' | 'vnode';
  local?: LocalContainerd;
}

/** Runtime handler names from CRI Status (runtimeHandlerNames in src/k8s/cri). */
export const runtimeHandlers = runtimeHandlerNames;

export async function systemHasVnode(socket = systemSocket()): Promise<boolean> {
  if (!existsSync(socket)) return false;
  let cri: CriClient | undefined;
  try {
    cri = await CriClient.connect(socket, { waitMs: 1_500, timeoutMs: 3_000 });
    return (await runtimeHandlers(cri)).includes('vnode');
  } catch {
    return false;
  } finally {
    cri?.close();
  }
}

export async function selectContainerd(flag: string | undefined, progress: Progress, env: NodeJS.ProcessEnv = process.env): Promise<SelectedContainerd> {
  if (flag) return { address: flag, source: 'flag' };
  if (env.CONTAINERD_ADDRESS) return { address: env.CONTAINERD_ADDRESS, source: 'env' };
  if (await systemHasVnode(systemSocket(env))) return { address: systemSocket(env), source: 'system' };
  const local = await ensureLocalContainerd(progress, env);
  return { address: local.address, source: 'vnode', local };
}

/** Connects, with an error that says which containerd and how to choose another. */
export async function connectCri(sel: SelectedContainerd): Promise<CriClient> {
  try {
    return await CriClient.connect(sel.address, { waitMs: sel.source === 'vnode' ? 30_000 : 5_000 });
  } catch (err) {
    const how = sel.source === 'flag' ? '--containerd' : sel.source === 'env' ? 'CONTAINERD_ADDRESS' : sel.source;
    throw new CliError(`containerd at ${sel.address} (from ${how}) does not answer CRI: ${(err as Error).message}`);
  }
}
