// The edit vnode install makes to containerd's config: one marked block, appended at the
// end of the file (or replaced in place when an earlier install wrote it), that defines
// the `vnode` runtime table in the config's own format. Nothing else in the file changes,
// byte for byte: other runtimes, registry mirrors, plugins and comments stay.
//
// Why not an `imports` drop-in: containerd 1.6 and 1.7 merge an imported file per plugin,
// replacing the whole CRI plugin table with the imported one (verified with
// `containerd config dump`: sandbox_image, registry mirrors and the runc runtime fall
// back to defaults). Only 2.x merges deeply. One in-place block works on all three.
//
// Every edit is checked: the edited text must parse, and its parsed form must equal the
// original's with exactly the vnode table added (verifyEdit).
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'smol-toml';
import { InstallError } from './errors.js';

export type ConfigFormat = 2 | 3;

export const BLOCK_BEGIN = '# >>> vnode runtime (written by `vnode install`; `vnode uninstall` removes it) >>>';
export const BLOCK_END = '# <<< vnode runtime <<<';

/** The CRI plugin that holds the runtimes, per config format. */
export function criPlugin(format: ConfigFormat): string {
  return format === 3 ? 'io.containerd.cri.v1.runtime' : 'io.containerd.grpc.v1.cri';
}

/** A parsed TOML value as plain objects (smol-toml's tables have no prototype; comparisons need one kind). */
function plain(v: unknown): any {
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object' && !(v instanceof Date)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

const parsePlain = (text: string): Record<string, any> => plain(parse(text));

export function parseConfig(text: string, path: string): Record<string, any> {
  try {
    return parsePlain(text);
  } catch (err) {
    const first = String((err as Error).message).split('\n')[0];
    throw new InstallError('CONFIG_PARSE', `${path} is not valid TOML (${first}); the file was left untouched`);
  }
}

/**
 * The config's format, checked against the containerd that reads it: version 2 for
 * containerd 1.6/1.7 (2.x reads it too and migrates it in memory), version 3 for 2.x only.
 * An absent file is written in the containerd's native format.
 */
export function configFormat(data: Record<string, any> | undefined, containerdMajor: number | undefined, path: string): ConfigFormat {
  if (!data) return containerdMajor !== undefined && containerdMajor >= 2 ? 3 : 2;
  const v = data['version'];
  if (v === undefined) {
    throw new InstallError('CONFIG_VERSION', `${path} has no "version" key (a version 1 config, deprecated since containerd 1.5): migrate it first (containerd config migrate), then run vnode install; the file was left untouched`);
  }
  if (v !== 2 && v !== 3) throw new InstallError('CONFIG_VERSION', `${path} has version = ${JSON.stringify(v)}: vnode install knows versions 2 (containerd 1.6/1.7) and 3 (containerd 2.x); the file was left untouched`);
  if (v === 3 && containerdMajor !== undefined && containerdMajor < 2) {
    throw new InstallError('CONFIG_VERSION', `${path} has version = 3, which containerd ${containerdMajor}.x does not read (it needs version 2); the file was left untouched`);
  }
  return v;
}

/** What install takes over from the node's own config. */
export interface NodeCriSettings {
  defaultRuntime: string;
  /** The default runtime's cgroup driver: options.SystemdCgroup. */
  systemdCgroup: boolean;
  cniConfDir: string;
  cniBinDirs: string[];
  /** The runtimes table as it is (to see a `vnode` runtime install did not write). */
  runtimes: Record<string, any>;
}

export function nodeCriSettings(data: Record<string, any> | undefined, format: ConfigFormat): NodeCriSettings {
  const plugin = data?.['plugins']?.[criPlugin(format)] ?? {};
  const runtimes = (plugin['containerd']?.['runtimes'] ?? {}) as Record<string, any>;
  const defaultRuntime = String(plugin['containerd']?.['default_runtime_name'] ?? 'runc');
  const cni = plugin['cni'] ?? {};
  const binDirs: string[] = Array.isArray(cni['bin_dirs']) && cni['bin_dirs'].length ? cni['bin_dirs'].map(String) : cni['bin_dir'] ? [String(cni['bin_dir'])] : ['/opt/cni/bin'];
  return {
    defaultRuntime,
    systemdCgroup: runtimes[defaultRuntime]?.['options']?.['SystemdCgroup'] === true,
    cniConfDir: String(cni['conf_dir'] ?? '/etc/cni/net.d'),
    cniBinDirs: binDirs,
    runtimes,
  };
}

// ---- rendering ----------------------------------------------------------------------------

function tomlValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v); // a TOML basic string for what we write (paths, names)
  if (typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v))) return String(v);
  if (Array.isArray(v)) return `[${v.map(tomlValue).join(', ')}]`;
  throw new Error(`cannot write ${typeof v} as a TOML value`);
}

/** The header of a table below the runtimes: quoted the way containerd itself writes each format. */
function header(format: ConfigFormat, keys: string[]): string {
  const q = format === 3 ? `'${criPlugin(format)}'` : `"${criPlugin(format)}"`;
  return `[${['plugins', q, 'containerd', 'runtimes', ...keys].join('.')}]`;
}

/** The marked block that defines the `vnode` runtime table. */
export function renderBlock(format: ConfigFormat, table: Record<string, unknown>): string {
  const lines = [BLOCK_BEGIN, header(format, ['vnode'])];
  const subtables: [string, Record<string, unknown>][] = [];
  for (const [k, v] of Object.entries(table)) {
    if (v && typeof v === 'object' && !Array.isArray(v)) subtables.push([k, v as Record<string, unknown>]);
    else lines.push(`  ${k} = ${tomlValue(v)}`);
  }
  for (const [k, sub] of subtables) {
    lines.push(`  ${header(format, ['vnode', k])}`);
    for (const [sk, sv] of Object.entries(sub)) lines.push(`    ${sk} = ${tomlValue(sv)}`);
  }
  lines.push(BLOCK_END);
  return lines.join('\n') + '\n';
}

// ---- editing ------------------------------------------------------------------------------

/** [start, end) of the marked block, including the newline that ends it, or undefined. */
export function findBlock(text: string): [number, number] | undefined {
  const start = text.indexOf(BLOCK_BEGIN);
  if (start < 0) return undefined;
  if (start > 0 && text[start - 1] !== '\n') return undefined;
  const endMarker = text.indexOf(BLOCK_END, start);
  if (endMarker < 0) return undefined;
  let end = endMarker + BLOCK_END.length;
  if (text[end] === '\n') end++;
  return [start, end];
}

/** The text with the block in place: replacing the marked block, or appended (after one blank line). */
export function applyBlock(text: string, block: string): string {
  const at = findBlock(text);
  if (at) return text.slice(0, at[0]) + block + text.slice(at[1]);
  if (text === '') return block;
  return text + (text.endsWith('\n') ? '\n' : '\n\n') + block;
}

/** The text without the marked block (and the blank line applyBlock put before it). */
export function removeBlock(text: string): string {
  const at = findBlock(text);
  if (!at) return text;
  let start = at[0];
  if (text.slice(0, start).endsWith('\n\n')) start -= 1;
  return text.slice(0, start) + text.slice(at[1]);
}

/** Checks that `after` means `before` plus exactly runtimes.vnode = table (no other key changed). */
export function verifyEdit(before: Record<string, any> | undefined, afterText: string, format: ConfigFormat, table: Record<string, unknown>, path: string): void {
  let after: Record<string, any>;
  try {
    after = parsePlain(afterText);
  } catch (err) {
    throw new InstallError('CONFIG_EDIT', `adding the vnode runtime to ${path} would not parse (${String((err as Error).message).split('\n')[0]}); is the runtimes table written inline? Add the vnode runtime by hand; the file was left untouched`);
  }
  const expected = plain(before ?? {}) as Record<string, any>;
  if (before === undefined) expected['version'] = format;
  const plugins = (expected['plugins'] ??= {});
  const plugin = (plugins[criPlugin(format)] ??= {});
  const ctd = (plugin['containerd'] ??= {});
  const runtimes = (ctd['runtimes'] ??= {});
  runtimes['vnode'] = table;
  if (!isDeepStrictEqual(after, expected)) {
    throw new InstallError('CONFIG_EDIT', `adding the vnode runtime to ${path} would change other settings; the file was left untouched`);
  }
}

/** Checks that `afterText` means `before` without runtimes.vnode (used by uninstall). */
export function verifyRemoval(before: Record<string, any>, afterText: string, format: ConfigFormat): boolean {
  const expected = plain(before) as Record<string, any>;
  delete expected['plugins']?.[criPlugin(format)]?.['containerd']?.['runtimes']?.['vnode'];
  try {
    const after = parsePlain(afterText);
    return isDeepStrictEqual(after, expected) || isDeepStrictEqual(pruneEmpty(after), pruneEmpty(expected));
  } catch {
    return false;
  }
}

function pruneEmpty(o: Record<string, any>): Record<string, any> {
  for (const [k, v] of Object.entries(o)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)) {
      pruneEmpty(v);
      if (Object.keys(v).length === 0) delete o[k];
    }
  }
  return o;
}
