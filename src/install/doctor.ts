// What `vnode doctor` checks on a node where `vnode install` ran (its record in the
// prefix): containerd's live config has the vnode handler (CRI Status), the shim and its
// Node.js are there and executable, the vnode runtime's CNI chain ends in vnode-cni and
// vnode-cni is in containerd's CNI bin dir, and the manager answers (its Task API socket;
// /healthz on 127.0.0.1:9465 once the manager serves it).
import { accessSync, constants, readdirSync, readFileSync, realpathSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { managerInstance, pingManager } from '../shim/index.js';
import { parseConfig } from './config-edit.js';
import { readIfExists } from './files.js';
import { addresses, DEFAULT_PREFIX } from './install.js';
import { hostRoot, type HostRoot } from './node.js';
import { readConfDir, vnodeCniPlan } from './cni.js';
import { readRecord } from './record.js';
import { handlersAt } from './restart.js';

export const HEALTHZ_ADDRESS = '127.0.0.1:9465';

export interface NodeCheck {
  name: string;
  status: 'OK' | 'WARN' | 'FAIL';
  detail: string;
  fix?: string;
}

const executable = (p: string) => { try { accessSync(p, constants.X_OK); return true; } catch { return false; } };

function healthz(address: string, timeoutMs = 1500): Promise<number | undefined> {
  const [host, port] = address.split(':');
  return new Promise((resolve) => {
    const req = get({ host, port: Number(port), path: '/healthz', timeout: timeoutMs }, (res) => { res.resume(); resolve(res.statusCode); });
    req.on('timeout', () => { req.destroy(); resolve(undefined); });
    req.on('error', () => resolve(undefined));
  });
}

/** A vnode conflist that no longer matches the primary network (the manager follows it: cni-follow.ts). */
function staleness(h: HostRoot, primaryDir: string | undefined, vnodeDir: string): NodeCheck | undefined {
  if (!primaryDir) return undefined;
  const plan = vnodeCniPlan(primaryDir, readConfDir(h.path(primaryDir)), readConfDir(h.path(vnodeDir)));
  if (plan.kind === 'current') return undefined;
  const fix = 'the vnode manager rewrites it when the primary network changes: is it running (see its log)? Or run vnode install again';
  if (plan.kind === 'keep') return { name: 'vnode CNI', status: 'WARN', detail: plan.warning, fix: `restore the node's CNI network in ${primaryDir}` };
  return { name: 'vnode CNI', status: 'WARN', detail: `${join(vnodeDir, plan.name)} is stale (${plan.why}): it does not match ${join(primaryDir, plan.primary)} with vnode-cni appended`, fix };
}

/** The installed node's checks; [] when vnode install has not run with this prefix. */
export async function installedNodeChecks(prefix = DEFAULT_PREFIX, root = '/'): Promise<NodeCheck[]> {
  const h = hostRoot(root);
  const rec = readRecord(h, prefix);
  if (!rec) return [];
  const out: NodeCheck[] = [];
  const text = readIfExists(h.path(rec.config))?.toString('utf8');
  let address = addresses(undefined).address;
  try { if (text) address = addresses(parseConfig(text, rec.config)).address; } catch { /* reported below as the handler check */ }

  const handlers = await handlersAt(h.path(address), 3_000);
  if (!handlers) out.push({ name: 'vnode handler', status: 'FAIL', detail: `containerd at ${address} does not answer CRI`, fix: 'start containerd (systemctl start containerd)' });
  else if (!handlers.includes('vnode')) out.push({ name: 'vnode handler', status: 'FAIL', detail: `CRI reports handlers ${handlers.join(', ') || 'none'}, not vnode`, fix: `restart containerd to load ${rec.config} (vnode install does, without --no-restart)` });
  else out.push({ name: 'vnode handler', status: 'OK', detail: `CRI Status of ${address} reports runtime handler vnode` });

  const shim = join(prefix, 'bin', 'containerd-shim-vnode-v2');
  const node = join(prefix, 'bin', 'node');
  const missing = [shim, node].filter((p) => !executable(h.path(p)));
  if (!readIfExists(h.path(join(prefix, 'dist', 'vnode.mjs')))) missing.push(join(prefix, 'dist', 'vnode.mjs'));
  out.push(missing.length
    ? { name: 'vnode shim', status: 'FAIL', detail: `missing or not executable: ${missing.join(', ')}`, fix: 'run vnode install again' }
    : { name: 'vnode shim', status: 'OK', detail: `${shim} (runtime_path) with its Node.js ${node}${rec.shimLink ? `, linked as ${rec.shimLink}` : ''}` });

  let cni: NodeCheck;
  try {
    const dir = h.path(rec.cniConfDir);
    const file = readdirSync(dir).filter((n) => /\.(conflist|conf|json)$/.test(n)).sort()[0];
    const plugins = file ? ((JSON.parse(readFileSync(join(dir, file), 'utf8')) as { plugins?: { type: string }[] }).plugins ?? []) : [];
    const chain = plugins.map((p) => p.type).join(' → ');
    const pluginTarget = realpathSync(h.path(rec.cniPlugin));
    if (plugins.at(-1)?.type !== 'vnode-cni') cni = { name: 'vnode CNI', status: 'FAIL', detail: `${rec.cniConfDir}: ${chain || 'no network'}`, fix: 'run vnode install again (it appends vnode-cni to the primary network)' };
    else if (!executable(pluginTarget)) cni = { name: 'vnode CNI', status: 'FAIL', detail: `${rec.cniPlugin} is not executable`, fix: 'run vnode install again' };
    else cni = staleness(h, rec.primaryCniConfDir, rec.cniConfDir) ?? { name: 'vnode CNI', status: 'OK', detail: `${join(rec.cniConfDir, file!)}: ${chain}; ${rec.cniPlugin}` };
  } catch (err) {
    cni = { name: 'vnode CNI', status: 'FAIL', detail: (err as Error).message, fix: 'run vnode install again' };
  }
  out.push(cni);

  const inst = managerInstance(address, {});
  const answers = await pingManager(h.path(inst.socket), 1_500);
  const code = await healthz(HEALTHZ_ADDRESS);
  if (code === 200) out.push({ name: 'vnode manager', status: 'OK', detail: `/healthz on ${HEALTHZ_ADDRESS} answers 200${answers ? `; Task API on ${inst.socket}` : ''}` });
  else if (code !== undefined) out.push({ name: 'vnode manager', status: 'FAIL', detail: `/healthz on ${HEALTHZ_ADDRESS} answers ${code}`, fix: `see the manager's log (${rec.service ? 'journalctl -u vnode-manager' : inst.logFile})` });
  else if (answers) out.push({ name: 'vnode manager', status: 'OK', detail: `Task API answers on ${inst.socket} (no /healthz on ${HEALTHZ_ADDRESS})` });
  else out.push({ name: 'vnode manager', status: 'WARN', detail: `not running (no answer on ${inst.socket})`, fix: rec.service ? 'systemctl start vnode-manager' : 'it starts with the first vnode pod' });
  return out;
}
