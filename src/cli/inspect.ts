// `vnode inspect NAME [--instance ID]`: one vNode as JSON, with its pods, containers,
// namespaces, ID mapping and lease. Exit 1 when no vNode has that name.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCode, NotFoundError, UsageError } from './errors.js';
import { runDir } from './ps.js';
import { namespacesOf, readInstances } from './state.js';

export const INSPECT_USAGE = `Usage: vnode inspect NAME [--instance ID]

Prints one vNode (a NAME from "vnode ps") as JSON: its record, pods and containers,
namespaces, uid/gid maps and ID-range lease.
`;

function read(path: string): string | undefined {
  try { return readFileSync(path, 'utf8'); } catch { return undefined; }
}

export async function inspectCommand(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options: { instance: { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.values.help) {
    process.stdout.write(INSPECT_USAGE);
    return ExitCode.ok;
  }
  const [name, ...extra] = parsed.positionals;
  if (!name || extra.length) throw new UsageError(`expected one vNode name\n${INSPECT_USAGE}`);
  const matches = readInstances(runDir(), parsed.values.instance).flatMap((i) => i.vnodes.filter((v) => v.name === name).map((v) => ({ i, v })));
  if (matches.length === 0) throw new NotFoundError(`vNode "${name}" not found (see vnode ps)`);
  if (matches.length > 1) {
    throw new UsageError(`vNode "${name}" exists in several manager instances (${matches.map((m) => m.i.id).join(', ')}): choose one with --instance`);
  }
  const { i, v } = matches[0]!;
  const poolDir = process.env.VNODE_ID_POOL_DIR ?? '/run/vnode/idpool';
  const lease = read(join(poolDir, String(v.range.start)));
  const detail = {
    ...v,
    instanceDir: i.dir,
    containerdAddress: i.containerdAddress,
    manager: { pid: i.managerPid, alive: i.managerAlive },
    namespaces: v.alive ? namespacesOf(v.initPid) : {},
    uidMap: v.alive ? (read(`/proc/${v.initPid}/uid_map`) ?? '').trim().split('\n').map((l) => l.trim()).filter(Boolean) : [],
    gidMap: v.alive ? (read(`/proc/${v.initPid}/gid_map`) ?? '').trim().split('\n').map((l) => l.trim()).filter(Boolean) : [],
    lease: lease ? (JSON.parse(lease) as unknown) : null,
  };
  process.stdout.write(JSON.stringify(detail, null, 2) + '\n');
  return ExitCode.ok;
}
