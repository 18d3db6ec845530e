// `vnode uninstall`: gives containerd's config back as it was before install (the backup's
// bytes when the config is still exactly what install wrote; otherwise only the marked
// vnode block is taken out, keeping later edits), removes the vnode runtime's CNI, the
// vnode-cni link, the unit and the prefix, and restarts containerd. Refused while vNode
// pods run (CRI ListPodSandbox, runtime handler vnode), unless --force.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readlinkSync, rmSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { managerInstance } from '../shim/index.js';
import { configFormat, findBlock, parseConfig, removeBlock, verifyRemoval } from './config-edit.js';
import { InstallError } from './errors.js';
import { readIfExists, sha256Hex, writeAtomic } from './files.js';
import { addresses, DEFAULT_CONFIG, DEFAULT_PREFIX, type Action, type InstallResult, type Step } from './install.js';
import { checkContainerdVersion, containerdVersion, findContainerd, hostRoot, type HostRoot } from './node.js';
import { readRecord, recordPath } from './record.js';
import { removeVnodePods, restartContainerd, restartPlan, runningVnodePods, sameMountNamespace, systemdRunning, waitForHandler, type Progress } from './restart.js';
import { SERVICE_PATH, SERVICE_UNIT } from './service.js';

export interface UninstallOptions {
  config?: string;
  prefix?: string;
  hostRoot?: string;
  restart?: boolean;
  restartCommand?: string;
  /** Uninstall even while vNode pods run: they are stopped and removed first (through CRI). */
  force?: boolean;
  timeoutMs?: number;
  progress?: Progress;
}

function managerAlive(h: HostRoot, address: string): number | undefined {
  const inst = managerInstance(address, {});
  const text = readIfExists(h.path(inst.pidFile))?.toString('utf8');
  const pid = Number(text?.trim().split(/\s+/)[0]);
  return pid > 0 && existsSync(`/proc/${pid}`) ? pid : undefined;
}

async function refuseWhilePodsRun(h: HostRoot, address: string, running: boolean): Promise<void> {
  const pods = running ? await runningVnodePods(h.path(address)) : [];
  if (pods === undefined) {
    throw new InstallError('PODS_RUNNING', `cannot list pods: containerd at ${address} does not answer CRI; start it, or pass --force to uninstall anyway`);
  }
  if (pods.length) {
    const names = pods.slice(0, 5).map((p) => `${p.namespace}/${p.name}`).join(', ');
    throw new InstallError('PODS_RUNNING', `${pods.length} vNode pod(s) still run (${names}${pods.length > 5 ? ', …' : ''}): delete them first (or drain the node), or pass --force`);
  }
  const manager = managerAlive(h, address);
  if (!running && manager) {
    throw new InstallError('PODS_RUNNING', `containerd is not running but vnode-manager (pid ${manager}) is, so vNode pods may still run: start containerd to check, or pass --force`);
  }
}

function restoreConfig(h: HostRoot, config: string, prefix: string): { step: Step; changed: boolean } {
  const local = h.path(config);
  const text = readIfExists(local)?.toString('utf8');
  const record = readRecord(h, prefix);
  const backupPath = record?.backup ?? `${config}.vnode-backup`;
  const backup = readIfExists(h.path(backupPath));
  const dropBackup = () => { if (backup) rmSync(h.path(backupPath), { force: true }); };
  if (text === undefined || !findBlock(text)) {
    return { step: { what: 'config', path: config, action: 'unchanged', detail: 'no vnode runtime in it' }, changed: false };
  }
  const sha = sha256Hex(text);
  if (record && sha === record.installedSha256) {
    if (record.originalSha256 === null) {
      unlinkSync(local);
      return { step: { what: 'config', path: config, action: 'removed', detail: 'there was none before install' }, changed: true };
    }
    if (backup && sha256Hex(backup) === record.originalSha256) {
      writeAtomic(local, backup);
      dropBackup();
      return { step: { what: 'config', path: config, action: 'restored', detail: `from ${backupPath} (sha256 ${record.originalSha256.slice(0, 12)})` }, changed: true };
    }
  }
  // Edited since install (or no record): take out our block only, keep the other edits.
  const before = parseConfig(text, config);
  const format = configFormat(before, undefined, config);
  const after = removeBlock(text);
  if (!verifyRemoval(before, after, format)) {
    throw new InstallError('CONFIG_EDIT', `removing the vnode block from ${config} would change other settings; the file was left untouched`);
  }
  writeAtomic(local, after);
  dropBackup();
  return { step: { what: 'config', path: config, action: 'configured', detail: 'changed since install: removed the vnode block, kept the other changes' }, changed: true };
}

function removeLinks(h: HostRoot, prefix: string): Step[] {
  const record = readRecord(h, prefix);
  const steps: Step[] = [];
  for (const [what, link] of [['cni-plugin', record?.cniPlugin], ['shim', record?.shimLink]] as const) {
    if (!link) continue;
    let action: Action = 'unchanged';
    try {
      if (readlinkSync(h.path(link)).startsWith(prefix + '/')) { unlinkSync(h.path(link)); action = 'removed'; }
    } catch { /* not there, or not our link */ }
    steps.push({ what, path: link, action });
  }
  return steps;
}

function removeService(h: HostRoot): Step | undefined {
  const local = h.path(SERVICE_PATH);
  const unit = readIfExists(local)?.toString('utf8');
  if (!unit?.startsWith('# Written by vnode install')) return undefined;
  if (systemdRunning(h)) {
    const pre = h.root === '/' ? [] : ['nsenter', '-t', '1', '-m', '--'];
    const systemctl = (...a: string[]) => { const argv = [...pre, 'systemctl', ...a]; execFileSync(argv[0]!, argv.slice(1), { stdio: 'ignore', timeout: 60_000 }); };
    try { systemctl('disable', '--now', SERVICE_UNIT); } catch { /* not enabled */ }
    unlinkSync(local);
    systemctl('daemon-reload');
  } else {
    unlinkSync(local);
  }
  return { what: 'service', path: SERVICE_PATH, action: 'removed' };
}

/**
 * The manager of this containerd, once no vNode pod is left, is stopped (SIGTERM: with no
 * task left it unmounts vnodefs and stops vnode-hold), before its files go. One that still
 * serves tasks (a forced uninstall whose pods could not be listed) is left running.
 */
async function stopIdleManager(h: HostRoot, address: string, progress: Progress): Promise<Step | undefined> {
  const pid = managerAlive(h, address);
  if (!pid) return undefined;
  const pods = await runningVnodePods(h.path(address));
  if (pods === undefined || pods.length > 0) return { what: 'manager', action: 'skipped', detail: `pid ${pid} still serves vNode pods` };
  progress(`stopping vnode-manager (pid ${pid})`);
  try { process.kill(pid, 'SIGTERM'); } catch { return undefined; }
  for (let i = 0; i < 100 && existsSync(`/proc/${pid}`); i++) await new Promise((r) => setTimeout(r, 100));
  const alive = existsSync(`/proc/${pid}`);
  return { what: 'manager', action: alive ? 'skipped' : 'stopped', detail: alive ? `pid ${pid} did not stop within 10 s` : `pid ${pid}, no vNode pod left` };
}

/** Removes what install put in the prefix (and the prefix when that leaves it empty). */
function removePrefix(h: HostRoot, prefix: string): Step {
  const dir = h.path(prefix);
  if (!existsSync(join(dir, 'install.json')) && !existsSync(join(dir, 'dist', 'vnode.mjs'))) return { what: 'files', path: prefix, action: 'unchanged', detail: 'nothing installed there' };
  for (const n of ['dist', 'node_modules', 'bin', 'etc', 'package.json', 'install.json']) rmSync(join(dir, n), { recursive: true, force: true });
  if (readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  return { what: 'files', path: prefix, action: 'removed' };
}

export async function uninstall(o: UninstallOptions = {}): Promise<InstallResult> {
  const progress = o.progress ?? (() => {});
  const h = hostRoot(o.hostRoot);
  const config = o.config ?? DEFAULT_CONFIG;
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  const text = readIfExists(h.path(config))?.toString('utf8');
  const data = text === undefined ? undefined : parseConfig(text, config);
  const proc = findContainerd(config, h);
  const v = containerdVersion(proc, h);
  if (v) checkContainerdVersion(v);
  const format = configFormat(data ?? { version: v && v.major >= 2 ? 3 : 2 }, v?.major, config);
  const { address } = addresses(data);
  if (!existsSync(h.path(recordPath(prefix))) && !(text && findBlock(text))) {
    throw new InstallError('NOT_INSTALLED', `vnode is not installed here (no ${recordPath(prefix)}, no vnode block in ${config})`);
  }
  const steps: Step[] = [];
  if (!o.force) {
    await refuseWhilePodsRun(h, address, proc !== undefined);
  } else if (proc) {
    // every vNode pod, ready or stopped: one left behind would name a handler that is gone
    try {
      const n = await removeVnodePods(h.path(address), progress);
      if (n) steps.push({ what: 'pods', action: 'removed', detail: `${n} vNode pod(s) stopped and removed (--force)` });
    } catch (e) {
      steps.push({ what: 'pods', action: 'skipped', detail: `cannot remove vNode pods through CRI (${(e as Error).message}); they stay with containerd (--force)` });
    }
  }

  const cfg = restoreConfig(h, config, prefix);
  steps.push(cfg.step);
  steps.push(...removeLinks(h, prefix));
  const svc = removeService(h);
  if (svc) steps.push(svc);

  if (!cfg.changed) {
    steps.push({ what: 'containerd', action: 'unchanged' });
  } else if (o.restart === false) {
    steps.push({ what: 'containerd', action: 'skipped', detail: 'restart containerd to drop the vnode runtime (--no-restart)' });
  } else {
    const rp = restartPlan({ proc, command: o.restartCommand, h, systemdRunning: systemdRunning(h), sameMountNs: proc ? sameMountNamespace(proc.pid) : false });
    if (rp.kind === 'none') {
      steps.push({ what: 'containerd', action: 'skipped', detail: rp.why });
    } else {
      const started = await restartContainerd(rp, progress);
      await waitForHandler(h.path(address), 'vnode', false, o.timeoutMs ?? 60_000, progress);
      const pid = started ?? findContainerd(config, h)?.pid;
      steps.push({ what: 'containerd', action: 'restarted', detail: `${pid && proc ? `pid ${proc.pid} → ${pid}; ` : ''}runtime handler vnode gone` });
    }
  }
  const stopped = await stopIdleManager(h, address, progress);
  if (stopped) steps.push(stopped);
  steps.push(removePrefix(h, prefix));
  const newProc = findContainerd(config, h);
  return { changed: steps.some((s) => s.action !== 'unchanged'), containerd: { version: v?.text, pid: newProc?.pid ?? proc?.pid, format, config, address }, steps };
}

/** For doctor: the install record of a prefix, if vnode is installed there. */
export function installedRecord(prefix = DEFAULT_PREFIX, root = '/'): ReturnType<typeof readRecord> {
  return readRecord(hostRoot(root), prefix);
}
