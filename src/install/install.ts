// `vnode install`: the vnode runtime into a node's existing containerd.
//
// Everything is checked before anything is written (so a refused config is left as it
// was): the node's runtime, containerd's version and config format, the edit itself
// (verifyEdit), the primary CNI network. Then, each only when its bytes differ: the build
// into the prefix, the vnode runtime's CNI, the config (atomically, after a backup of the
// original bytes), the systemd unit, the install record. A second install writes nothing
// and says "unchanged".
import { VNODE_NAME_ANNOTATION } from '../oci/index.js';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { vnodeRuntime } from './containerd-config.js';
import { MANAGER_NODE_FLAGS } from '../shim/index.js';
import { asConflist, requirePrimaryNetwork, vnodeConflistName, vnodeConflistText, vnodeNetwork } from './cni.js';
import { applyBlock, configFormat, findBlock, nodeCriSettings, parseConfig, removeBlock, renderBlock, verifyEdit, type ConfigFormat } from './config-edit.js';
import { InstallError } from './errors.js';
import { buildRoot, copyIfChanged, launcher, linkIfChanged, readIfExists, runtimePackages, sha256Hex, syncTree, writeAtomic, writeIfChanged } from './files.js';
import { checkContainerdVersion, containerdVersion, findContainerd, hostRoot, refuseOtherRuntimes, type ContainerdProcess, type HostRoot } from './node.js';
import { handlersAt, restartContainerd, restartPlan, sameMountNamespace, systemdRunning, waitForHandler, type Progress } from './restart.js';
import { SERVICE_PATH, SERVICE_UNIT, serviceUnit } from './service.js';
import { readRecord, recordPath, type InstallRecord } from './record.js';

/** Pod annotations the vnode runtime reads (containerd passes only those listed in pod_annotations; vnodeRuntime lists them). */
export const VNODE_POD_ANNOTATIONS: string[] = [VNODE_NAME_ANNOTATION];

export const DEFAULT_CONFIG = '/etc/containerd/config.toml';
export const DEFAULT_PREFIX = '/opt/vnode';
export const DEFAULT_ADDRESS = '/run/containerd/containerd.sock';

export interface InstallOptions {
  /** Host path of containerd's config. */
  config?: string;
  /** Host path of the prefix. */
  prefix?: string;
  /** Where the node's / is (the DaemonSet mounts it at /host); default '/'. */
  hostRoot?: string;
  /** Restart containerd and wait for the handler (default true). */
  restart?: boolean;
  restartCommand?: string;
  /** Write the vnode-manager systemd unit. */
  service?: boolean;
  /** Environment of the manager service (e.g. VNODE_PER_POD), written to <prefix>/etc/vnode-manager.env. */
  managerEnv?: Record<string, string>;
  timeoutMs?: number;
  progress?: Progress;
}

export type Action = 'created' | 'configured' | 'unchanged' | 'removed' | 'restored' | 'restarted' | 'stopped' | 'skipped';

export interface Step {
  what: string;
  path?: string;
  action: Action;
  detail?: string;
}

export interface InstallResult {
  changed: boolean;
  containerd: { version?: string; pid?: number; format: ConfigFormat; config: string; address: string };
  steps: Step[];
}

/** What containerd's config says about where it listens (grpc.address, ttrpc.address). */
export function addresses(data: Record<string, any> | undefined): { address: string; ttrpcAddress: string } {
  const address = String(data?.['grpc']?.['address'] ?? DEFAULT_ADDRESS);
  return { address, ttrpcAddress: String(data?.['ttrpc']?.['address'] ?? `${address}.ttrpc`) };
}

interface Plan {
  h: HostRoot;
  config: string;
  prefix: string;
  text: string | undefined;
  newText: string;
  format: ConfigFormat;
  proc: ContainerdProcess | undefined;
  version: string | undefined;
  address: string;
  ttrpcAddress: string;
  cniBinDir: string;
  /** containerd's CRI conf_dir: the primary network the vnode conflist follows. */
  primaryCniDir: string;
  vnodeCniDir: string;
  conflistName: string;
  conflist: Record<string, unknown>;
  defaultRuntimeUnit: string;
  /** containerd 1.6 ignores runtime_path: a link to the shim in a directory of containerd's PATH. */
  shimLink?: string;
}

/** containerd 1.6 resolves shims through its PATH only; the first directory of its PATH (or /usr/local/bin). */
function shimLinkFor(proc: ContainerdProcess | undefined, major: number | undefined, minor: number | undefined): string | undefined {
  if (major === undefined || major > 1 || (minor ?? 0) >= 7) return undefined;
  let path = '/usr/local/bin';
  if (proc) {
    try {
      const env = readFileSync(`/proc/${proc.pid}/environ`, 'utf8').split('\0').find((kv) => kv.startsWith('PATH='));
      const first = env?.slice(5).split(':').find((d) => d.startsWith('/'));
      if (first) path = first;
    } catch { /* gone: the default */ }
  }
  return join(path, 'containerd-shim-vnode-v2');
}

/** Every check, nothing written. */
function plan(o: InstallOptions): Plan {
  const h = hostRoot(o.hostRoot);
  const config = o.config ?? DEFAULT_CONFIG;
  const prefix = o.prefix ?? DEFAULT_PREFIX;
  const textBuf = readIfExists(h.path(config));
  const text = textBuf?.toString('utf8');
  const data = text === undefined ? undefined : parseConfig(text, config);
  refuseOtherRuntimes(h, data, config);
  const proc = findContainerd(config, h);
  const v = containerdVersion(proc, h);
  if (v) checkContainerdVersion(v);
  if (!v && !data) throw new InstallError('NO_CONTAINERD', `no containerd found (no process reads ${config}, no containerd binary in /usr/bin or /usr/local/bin, no config): vnode installs into an existing containerd`);
  const format = configFormat(data, v?.major, config);
  // The config as it would be without a vnode block an earlier install wrote.
  const base = text !== undefined && findBlock(text) ? removeBlock(text) : text;
  const baseData = base === undefined ? undefined : parseConfig(base, config);
  const settings = nodeCriSettings(baseData, format);
  if (settings.runtimes['vnode']) {
    throw new InstallError('RUNTIME_EXISTS', `${config} already defines a "vnode" runtime that vnode install did not write: remove it first; the file was left untouched`);
  }
  const primary = requirePrimaryNetwork(settings.cniConfDir, h);
  const vnodeCniDir = join(prefix, 'etc', 'cni', 'net.d');
  // containerd 2.1-2.3 read a handler's features (CRI Status, which kubelet 1.36 checks for
  // hostUsers: false and recursiveReadOnly pods) only when it is typed io.containerd.runc.v2:
  // on 2.x the vnode shim is declared that way, by its path. 1.6 ignores runtime_path.
  const shim = join(prefix, 'bin', 'containerd-shim-vnode-v2');
  const major = v?.major ?? (format === 3 ? 2 : 1);
  const table: Record<string, unknown> = vnodeRuntime({ cniConfDir: vnodeCniDir, ...(major >= 2 ? { runcTypedShim: shim } : { runtimePath: shim }), systemdCgroup: settings.systemdCgroup });
  const newText = applyBlock(text ?? `version = ${format}\n`, renderBlock(format, table));
  verifyEdit(baseData, newText, format, table, config);
  const { address, ttrpcAddress } = addresses(data);
  return {
    h, config, prefix, text, newText, format, proc, version: v?.text, address, ttrpcAddress,
    cniBinDir: settings.cniBinDirs[0]!, primaryCniDir: settings.cniConfDir, vnodeCniDir, conflistName: vnodeConflistName(primary.file), conflist: vnodeNetwork(asConflist(primary.conflist)),
    defaultRuntimeUnit: proc?.unit ?? 'containerd.service',
    shimLink: shimLinkFor(proc, v?.major, v?.minor),
  };
}

/**
 * Copies a build (dist/, the runtime npm packages, the shim front, Node.js, launchers) into
 * `dst`, laid out as `prefix` (the launchers name the prefix's absolute paths). Only files
 * whose bytes differ are written; files of an older build are removed.
 */
export function copyBuild(root: string, dst: string, prefix: string): { written: number; removed: number } {
  // The helpers run from here inside vNodes (as an unprivileged host user): the prefix must be traversable.
  mkdirSync(dst, { recursive: true, mode: 0o755 });
  chmodSync(dst, 0o755);
  let written = 0;
  let removed = 0;
  const add = (r: { written: number; removed: number }) => { written += r.written; removed += r.removed; };
  add(syncTree(join(root, 'dist'), join(dst, 'dist')));
  for (const name of runtimePackages(root)) add(syncTree(join(root, 'node_modules', name), join(dst, 'node_modules', name)));
  const shimFront = join(root, 'bin', 'containerd-shim-vnode-v2');
  if (!existsSync(shimFront)) throw new InstallError('NO_BUILD', `${shimFront} is missing: run \`npm run build\``);
  if (copyIfChanged(shimFront, join(dst, 'bin', 'containerd-shim-vnode-v2'))) written++;
  if (copyIfChanged(process.execPath, join(dst, 'bin', 'node'))) written++;
  if (writeIfChanged(join(dst, 'bin', 'vnode'), launcher(prefix, 'vnode'), 0o755)) written++;
  if (writeIfChanged(join(dst, 'bin', 'vnode-manager'), launcher(prefix, 'vnode-manager', MANAGER_NODE_FLAGS), 0o755)) written++;
  const pkgJson = readIfExists(join(root, 'package.json'));
  if (pkgJson && writeIfChanged(join(dst, 'package.json'), pkgJson)) written++;
  return { written, removed };
}

function installFiles(p: Plan): Step {
  const root = buildRoot();
  const dst = p.h.path(p.prefix);
  if (root === dst) return { what: 'files', path: p.prefix, action: 'unchanged', detail: 'running from the prefix' };
  const { written, removed } = copyBuild(root, dst, p.prefix);
  const action: Action = written || removed ? 'configured' : 'unchanged';
  return { what: 'files', path: p.prefix, action, detail: action === 'unchanged' ? undefined : `${written} written${removed ? `, ${removed} removed` : ''}` };
}

function installCni(p: Plan): Step[] {
  const dir = p.h.path(p.vnodeCniDir);
  let changed = writeIfChanged(join(dir, p.conflistName), vnodeConflistText(p.conflist), 0o644);
  for (const n of readdirSync(dir)) if (n !== p.conflistName) { rmSync(join(dir, n), { force: true }); changed = true; }
  const link = join(p.cniBinDir, 'vnode-cni');
  const linked = linkIfChanged(p.h.path(link), join(p.prefix, 'dist', 'vnode-cni'));
  return [
    { what: 'cni', path: join(p.vnodeCniDir, p.conflistName), action: changed ? 'configured' : 'unchanged', detail: changed ? `${(p.conflist['plugins'] as { type: string }[]).map((x) => x.type).join(' → ')}` : undefined },
    { what: 'cni-plugin', path: link, action: linked ? 'created' : 'unchanged' },
  ];
}

function installShimLink(p: Plan): Step | undefined {
  if (!p.shimLink) return undefined;
  const changed = linkIfChanged(p.h.path(p.shimLink), join(p.prefix, 'bin', 'containerd-shim-vnode-v2'));
  return { what: 'shim', path: p.shimLink, action: changed ? 'created' : 'unchanged', detail: changed ? 'containerd 1.6 ignores runtime_path: a link in its PATH' : undefined };
}

function installConfig(p: Plan, record: InstallRecord | undefined): { step: Step; record: InstallRecord } {
  const local = p.h.path(p.config);
  const backup = `${p.config}.vnode-backup`;
  const firstInstall = p.text === undefined || !findBlock(p.text);
  let originalSha256 = record?.originalSha256 ?? (p.text === undefined ? null : sha256Hex(p.text));
  let backupPath = record?.backup ?? (p.text === undefined ? null : backup);
  if (firstInstall) {
    originalSha256 = p.text === undefined ? null : sha256Hex(p.text);
    backupPath = p.text === undefined ? null : backup;
    if (p.text !== undefined) writeAtomic(p.h.path(backup), readIfExists(local)!);
  }
  const changed = p.newText !== p.text;
  if (changed) writeAtomic(local, p.newText);
  const next: InstallRecord = {
    kind: 'vnode-install', recordVersion: 1, prefix: p.prefix, config: p.config, format: p.format, backup: backupPath, originalSha256,
    installedSha256: sha256Hex(p.newText), cniConfDir: p.vnodeCniDir, primaryCniConfDir: p.primaryCniDir, cniPlugin: join(p.cniBinDir, 'vnode-cni'), service: record?.service ?? false,
    ...(p.shimLink ? { shimLink: p.shimLink } : {}),
  };
  const step: Step = { what: 'config', path: p.config, action: !changed ? 'unchanged' : p.text === undefined ? 'created' : 'configured' };
  if (changed) step.detail = firstInstall && backupPath ? `runtime vnode added, backup ${backupPath}` : 'runtime vnode updated';
  return { step, record: next };
}

function systemctl(p: Plan, args: string[]): void {
  const argv = p.h.root === '/' ? ['systemctl', ...args] : ['nsenter', '-t', '1', '-m', '--', 'systemctl', ...args];
  execFileSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
}

function installService(p: Plan, filesChanged: boolean, env: Record<string, string>): Step {
  const unit = serviceUnit({ prefix: p.prefix, address: p.address, ttrpcAddress: p.ttrpcAddress, containerdUnit: p.defaultRuntimeUnit, cni: { confDir: p.vnodeCniDir, binDirs: [p.cniBinDir] } });
  const envText = `# written by vnode install: the vnode-manager service's environment\n${Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join('')}`;
  const envChanged = writeIfChanged(p.h.path(join(p.prefix, 'etc', 'vnode-manager.env')), envText, 0o644);
  const changed = writeIfChanged(p.h.path(SERVICE_PATH), unit, 0o644);
  const action: Action = changed ? 'created' : filesChanged || envChanged ? 'configured' : 'unchanged';
  if (!systemdRunning(p.h)) return { what: 'service', path: SERVICE_PATH, action, detail: 'systemd is not running here: the unit is written, not enabled' };
  if (changed) systemctl(p, ['daemon-reload']);
  systemctl(p, ['enable', SERVICE_UNIT]);
  // A new build or environment: restart the manager (KillMode=process: pods keep running).
  systemctl(p, [changed || filesChanged || envChanged ? 'restart' : 'start', SERVICE_UNIT]);
  return { what: 'service', path: SERVICE_PATH, action, detail: action === 'unchanged' ? undefined : `${SERVICE_UNIT} enabled and (re)started` };
}

export async function install(o: InstallOptions = {}): Promise<InstallResult> {
  const progress = o.progress ?? (() => {});
  const p = plan(o);
  const steps: Step[] = [];
  const record = readRecord(p.h, p.prefix);
  const files = installFiles(p);
  steps.push(files);
  steps.push(...installCni(p));
  const shim = installShimLink(p);
  if (shim) steps.push(shim);
  const cfg = installConfig(p, record);
  steps.push(cfg.step);
  if (o.service) { steps.push(installService(p, files.action !== 'unchanged', o.managerEnv ?? {})); cfg.record.service = true; }
  writeIfChanged(p.h.path(recordPath(p.prefix)), JSON.stringify(cfg.record, null, 2) + '\n', 0o644);

  const local = p.h.path(p.address);
  const live = p.proc ? await handlersAt(local, 3_000) : undefined;
  const needsRestart = cfg.step.action !== 'unchanged' || (p.proc !== undefined && !(live ?? []).includes('vnode'));
  if (!needsRestart) {
    steps.push({ what: 'containerd', action: 'unchanged', detail: p.proc ? 'CRI reports runtime handler vnode' : 'not running' });
  } else if (o.restart === false) {
    steps.push({ what: 'containerd', action: 'skipped', detail: 'restart containerd to load the vnode runtime (--no-restart)' });
  } else {
    const rp = restartPlan({ proc: p.proc, command: o.restartCommand, h: p.h, systemdRunning: systemdRunning(p.h), sameMountNs: p.proc ? sameMountNamespace(p.proc.pid) : false });
    if (rp.kind === 'none') {
      steps.push({ what: 'containerd', action: 'skipped', detail: `${rp.why}: start it to load the vnode runtime` });
    } else {
      const started = await restartContainerd(rp, progress);
      await waitForHandler(local, 'vnode', true, o.timeoutMs ?? 60_000, progress);
      // systemctl and a restart command do not say which process they started: the one that reads the config now
      const pid = started ?? findContainerd(p.config, p.h)?.pid;
      steps.push({ what: 'containerd', action: 'restarted', detail: `${pid && p.proc ? `pid ${p.proc.pid} → ${pid}; ` : ''}CRI reports runtime handler vnode` });
    }
  }
  const newProc = findContainerd(p.config, p.h);
  return {
    changed: steps.some((s) => s.action !== 'unchanged'),
    containerd: { version: p.version, pid: newProc?.pid ?? p.proc?.pid, format: p.format, config: p.config, address: p.address },
    steps,
  };
}
