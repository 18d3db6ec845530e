// `vnode install` / `vnode uninstall`: flags and output only; the work is src/install.
// Output follows kubectl apply: one line per object with what happened to it
// (created, configured, unchanged, removed, restored, restarted, skipped); progress of
// the restart on stderr; -o json for the whole result. Exit 0 on success, 1 when it
// failed, 2 for bad flags or a config it refuses to edit.
import { parseArgs } from 'node:util';
import { install, InstallError, uninstall, DEFAULT_CONFIG, DEFAULT_PREFIX, type InstallResult } from '../install/index.js';
import { CliError, CliErrorCode, ExitCode, UsageError } from './errors.js';
import { parseDuration, progressTo } from './output.js';

export const INSTALL_USAGE = `Usage: vnode install [flags]
       vnode uninstall [flags] [--force]

Installs the vnode runtime into this node's containerd (1.6, 1.7 or 2.x): copies this build
to the prefix, adds the runtime handler "vnode" to containerd's config in the config's own
format (a marked block; everything else keeps its bytes; the original is backed up), sets
up the vnode runtime's CNI (the node's primary network with vnode-cni appended), restarts
containerd the way the node runs it and waits until CRI reports the handler. Running pods
keep running. uninstall gives the original config back byte for byte.

Flags:
  --containerd-config PATH   containerd's config (default ${DEFAULT_CONFIG})
  --prefix DIR               where the build goes (default ${DEFAULT_PREFIX})
  --host-root DIR            the node's / is mounted here (DaemonSet init container: /host)
  --no-restart               do not restart containerd (it loads the change on its next start)
  --restart-command CMD      restart containerd with CMD (sh -c) instead of systemctl / re-exec
  --service                  also write, enable and start a systemd unit for vnode-manager
                             (VNODE_PER_POD, VNODE_ALLOW_HOST_NETWORK in the environment go to its EnvironmentFile)
  --timeout DURATION         how long to wait for containerd after the restart (default 60s)
  --force                    uninstall: stop and remove the vNode pods first
  -o, --output json          the result as JSON
  -q, --quiet                no progress lines
`;

/** What the manager service takes from install's environment (the DaemonSet sets it on the init container). */
export function managerEnvFrom(env: NodeJS.ProcessEnv): Record<string, string> {
  return Object.fromEntries(['VNODE_PER_POD', 'VNODE_ALLOW_HOST_NETWORK'].filter((k) => env[k] !== undefined && env[k] !== '').map((k) => [k, env[k]!]));
}

export function formatResult(r: InstallResult, verb: 'install' | 'uninstall'): string {
  const c = r.containerd;
  const head = `containerd ${c.version ?? '(version unknown)'}${c.pid ? ` (pid ${c.pid})` : ' (not running)'}, config ${c.config} (version ${c.format})`;
  const lines = r.steps.map((s) => `${s.what}${s.path ? ` ${s.path}` : ''} ${s.action}${s.detail ? ` (${s.detail})` : ''}`);
  const tail = r.changed ? [] : [`vnode ${verb}: nothing changed`];
  return [head, ...lines, ...tail].join('\n') + '\n';
}

export async function installCommand(argv: string[], verb: 'install' | 'uninstall' = 'install'): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        'containerd-config': { type: 'string' }, prefix: { type: 'string' }, 'host-root': { type: 'string' },
        'no-restart': { type: 'boolean' }, 'restart-command': { type: 'string' }, service: { type: 'boolean' }, timeout: { type: 'string' },
        force: { type: 'boolean' }, output: { type: 'string', short: 'o' }, quiet: { type: 'boolean', short: 'q' }, help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(INSTALL_USAGE);
    return ExitCode.ok;
  }
  if (v.output !== undefined && v.output !== 'json') throw new UsageError(`--output: only "json" is supported`);
  if (verb === 'install' && v.force) throw new UsageError('--force is an uninstall flag');
  if (verb === 'uninstall' && v.service) throw new UsageError('--service is an install flag (uninstall removes the unit install wrote)');
  let timeoutMs: number | undefined;
  try { timeoutMs = v.timeout ? parseDuration(v.timeout, '--timeout') : undefined; } catch (err) { throw new UsageError((err as Error).message); }
  const common = {
    config: v['containerd-config'], prefix: v.prefix, hostRoot: v['host-root'], restart: !v['no-restart'], restartCommand: v['restart-command'],
    timeoutMs, progress: progressTo(process.stderr, v.quiet ?? false),
  };
  try {
    const r = verb === 'install' ? await install({ ...common, service: v.service, managerEnv: managerEnvFrom(process.env) }) : await uninstall({ ...common, force: v.force });
    process.stdout.write(v.output === 'json' ? JSON.stringify(r, null, 2) + '\n' : formatResult(r, verb));
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof InstallError) {
      if (v.output === 'json') process.stdout.write(JSON.stringify({ error: { code: err.code, message: err.message } }, null, 2) + '\n');
      throw new CliError(`${err.message} [${err.code}]`, err.exitCode === 2 ? CliErrorCode.usage : CliErrorCode.failed);
    }
    throw err;
  }
}

export const uninstallCommand = (argv: string[]): Promise<number> => installCommand(argv, 'uninstall');
