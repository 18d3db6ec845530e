// `vnode ps [-o json|wide] [--instance ID]`: the vNodes of every manager instance on this
// node (<run dir>/<instance>, run dir /run/vnode or VNODE_RUN_DIR), with their pods.
import { parseArgs } from 'node:util';
import { DEFAULT_RUN_DIR } from '../shim/index.js';
import { ExitCode, NotFoundError, UsageError } from './errors.js';
import { formatAge, formatTable } from './output.js';
import { readInstances, type InstanceView, type VnodeView } from './state.js';

export const PS_USAGE = `Usage: vnode ps [-o json|wide] [--instance ID]

Lists the vNodes of every vnode manager on this node with their pods
(state under ${DEFAULT_RUN_DIR}/<instance>, or $VNODE_RUN_DIR).

  -o, --output FORMAT   json (every field) or wide (more columns)
      --instance ID     only the manager instance ID (a directory name under the run dir)
`;

export function runDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.VNODE_RUN_DIR || DEFAULT_RUN_DIR;
}

export function podNames(v: VnodeView): string {
  const pods = v.pods.map((p) => (p.namespace ? `${p.namespace}/${p.name}` : p.id.slice(0, 12)));
  const tasks = v.tasks.map((t) => `${t.namespace}/${t.id}`);
  return [...pods, ...tasks].join(',') || '<none>';
}

export function psTable(instances: InstanceView[], wide: boolean, now = new Date()): string {
  const headers = ['NAME', 'KEY', 'ID RANGE', 'PODS', 'INIT PID', 'AGE'];
  if (wide) headers.push('STATUS', 'INSTANCE', 'POD NAMES');
  const rows: string[][] = [];
  for (const inst of instances) {
    for (const v of inst.vnodes) {
      const row = [v.name, v.key, `${v.range.start}-${v.range.end}`, String(v.pods.length + v.tasks.length), String(v.initPid), formatAge(v.createdAt, now)];
      if (wide) row.push(v.alive ? 'Running' : 'Dead', inst.id, podNames(v));
      rows.push(row);
    }
  }
  return formatTable(headers, rows);
}

export function psJson(instances: InstanceView[]): string {
  const items = instances.flatMap((i) => i.vnodes.map((v) => ({ ...v, containerdAddress: i.containerdAddress, managerPid: i.managerPid, managerAlive: i.managerAlive })));
  return JSON.stringify({ kind: 'VnodeList', items }, null, 2) + '\n';
}

export function parseOutput(value: string | undefined, allowed: string[]): string | undefined {
  if (value !== undefined && !allowed.includes(value)) throw new UsageError(`--output: unknown format "${value}" (one of: ${allowed.join(', ')})`);
  return value;
}

export async function psCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { output: { type: 'string', short: 'o' }, instance: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(PS_USAGE);
    return ExitCode.ok;
  }
  const output = parseOutput(v.output, ['json', 'wide']);
  const instances = readInstances(runDir(), v.instance);
  if (v.instance !== undefined && instances.length === 0) throw new NotFoundError(`no manager instance "${v.instance}" under ${runDir()}`);
  if (output === 'json') {
    process.stdout.write(psJson(instances));
    return ExitCode.ok;
  }
  if (instances.every((i) => i.vnodes.length === 0)) {
    process.stderr.write('No vNodes found.\n');
    return ExitCode.ok;
  }
  process.stdout.write(psTable(instances, output === 'wide'));
  return ExitCode.ok;
}
