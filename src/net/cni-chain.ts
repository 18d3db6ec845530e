// Running a CNI network configuration list the way containerd's CRI does (libcni's
// AddNetworkList/DelNetworkList), for the one network attachment containerd never
// makes: a vNode's own network namespace, which hostNetwork pods of the vNode share.
// The manager gives it an interface on the pod network with the same chain the
// vnode runtime's pods get (its cni_conf_dir), so the vNode has an IP of its own.
// CHECK (libcni's CheckNetworkList) is here too, for a pod's or a vNode's attachment.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { NetError } from './errors.js';

export interface CniConfList {
  cniVersion: string;
  name: string;
  /** The list's "disableCheck": runtimes must not run CHECK for it. */
  disableCheck?: boolean;
  plugins: Record<string, unknown>[];
}

/** A plugin's failure, with the CNI error object it printed (code, msg, details) when it printed one. */
export class CniPluginError extends NetError {
  constructor(
    message: string,
    readonly plugin: string,
    readonly cni?: { code: number; msg: string; details?: string },
  ) {
    super('VNODE_NET_CNI_PLUGIN', message);
  }
}

export interface CniRuntime {
  containerId: string;
  netns: string;
  ifName: string;
  /** CNI_ARGS pairs (K8S_POD_NAMESPACE, K8S_POD_NAME, ...); IgnoreUnknown=1 is added. */
  args?: Record<string, string>;
  /** Capability arguments; each plugin gets those it declares in "capabilities" as runtimeConfig. */
  capabilityArgs?: Record<string, unknown>;
  binDirs: string[];
}

/** The first network in `dir` in file-name order, as go-cni loads it (.conflist, or a single .conf/.json plugin). */
export function loadConfList(dir: string): CniConfList {
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => /\.(conflist|conf|json)$/.test(f)).sort();
  } catch {
    /* no directory: reported below */
  }
  for (const f of files) {
    try {
      const c = JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>;
      if (Array.isArray(c['plugins'])) {
        return { cniVersion: String(c['cniVersion'] ?? '0.4.0'), name: String(c['name']), ...(c['disableCheck'] === true ? { disableCheck: true } : {}), plugins: c['plugins'] as Record<string, unknown>[] };
      }
      if (typeof c['type'] === 'string') return { cniVersion: String(c['cniVersion'] ?? '0.4.0'), name: String(c['name']), plugins: [c] };
    } catch {
      /* not JSON: the next file */
    }
  }
  throw new NetError('VNODE_NET_CNI_CONFIG', `no CNI network configuration in ${dir}`);
}

/** The config one plugin of the list gets on stdin. */
export function pluginConfig(list: CniConfList, plugin: Record<string, unknown>, rt: CniRuntime, prevResult: unknown): Record<string, unknown> {
  const conf: Record<string, unknown> = { ...plugin, cniVersion: list.cniVersion, name: list.name };
  const caps = (plugin['capabilities'] ?? {}) as Record<string, boolean>;
  const runtimeConfig: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(rt.capabilityArgs ?? {})) if (caps[k]) runtimeConfig[k] = v;
  if (Object.keys(runtimeConfig).length > 0) conf['runtimeConfig'] = runtimeConfig;
  delete conf['capabilities'];
  if (prevResult !== undefined) conf['prevResult'] = prevResult;
  return conf;
}

function findPlugin(type: string, dirs: string[]): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(type)) throw new NetError('VNODE_NET_CNI_CONFIG', `CNI plugin type ${JSON.stringify(type)} is not a plain name`);
  for (const d of dirs) if (existsSync(join(d, type))) return join(d, type);
  throw new NetError('VNODE_NET_CNI_PLUGIN', `CNI plugin ${type} not found in ${dirs.join(', ')}`);
}

function execPlugin(command: string, list: CniConfList, plugin: Record<string, unknown>, rt: CniRuntime, prev: unknown): Promise<unknown> {
  const type = String(plugin['type']);
  const bin = findPlugin(type, rt.binDirs);
  const args = Object.entries({ IgnoreUnknown: '1', ...rt.args }).map(([k, v]) => `${k}=${v}`).join(';');
  const env = { ...process.env, CNI_COMMAND: command, CNI_CONTAINERID: rt.containerId, CNI_NETNS: rt.netns, CNI_IFNAME: rt.ifName, CNI_ARGS: args, CNI_PATH: rt.binDirs.join(':') };
  return new Promise((resolve, reject) => {
    const child = execFile(bin, [], { env, encoding: 'utf8', timeout: 60_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      let out: Record<string, unknown> | undefined;
      try {
        out = stdout.trim() ? (JSON.parse(stdout) as Record<string, unknown>) : undefined;
      } catch {
        /* not JSON */
      }
      if (err) {
        const cni = out && typeof out['code'] === 'number' && typeof out['msg'] === 'string' ? { code: out['code'], msg: out['msg'], ...(out['details'] ? { details: String(out['details']) } : {}) } : undefined;
        const why = cni ? `CNI error ${cni.code}: ${cni.msg}${cni.details ? ` (${cni.details})` : ''}` : stderr.trim() || err.message;
        reject(new CniPluginError(`CNI ${command} of plugin ${type} (network ${list.name}) failed: ${why}`, type, cni));
      } else resolve(out);
    });
    child.stdin?.end(JSON.stringify(pluginConfig(list, plugin, rt, prev)));
  });
}

/** ADD through the whole list; each plugin gets the previous one's result. On failure, DEL runs for what was added. */
export async function cniAdd(list: CniConfList, rt: CniRuntime): Promise<unknown> {
  let prev: unknown;
  for (let i = 0; i < list.plugins.length; i++) {
    try {
      prev = await execPlugin('ADD', list, list.plugins[i]!, rt, prev);
    } catch (e) {
      await cniDel({ ...list, plugins: list.plugins.slice(0, i + 1) }, rt, prev).catch(() => undefined);
      throw e;
    }
  }
  return prev;
}

/** DEL in reverse order with the result ADD gave; every plugin runs even when one fails (the first failure is thrown). */
export async function cniDel(list: CniConfList, rt: CniRuntime, result?: unknown): Promise<void> {
  let first: unknown;
  for (const plugin of [...list.plugins].reverse()) {
    try {
      await execPlugin('DEL', list, plugin, rt, result);
    } catch (e) {
      first ??= e;
    }
  }
  if (first) throw first;
}

/**
 * CHECK in list order, each plugin with ADD's result as prevResult; stops at the first
 * failure and throws it. Versions before 0.4.0 have no CHECK; nothing runs for a list
 * with disableCheck (libcni checks in that order).
 */
export async function cniCheck(list: CniConfList, rt: CniRuntime, result: unknown): Promise<void> {
  const [major = 0, minor = 0] = list.cniVersion.split('.').map(Number);
  if (major === 0 && minor < 4) throw new NetError('VNODE_NET_CNI_CONFIG', `network ${list.name} has cniVersion ${list.cniVersion}: CHECK needs 0.4.0 or later`);
  if (list.disableCheck) return;
  for (const plugin of list.plugins) await execPlugin('CHECK', list, plugin, rt, result);
}
