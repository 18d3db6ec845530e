// Files install writes: atomically (a temp file in the same directory, fsync, rename), only
// when their bytes differ (so a second install changes nothing), and the self-contained
// build it copies to the prefix.
import { createHash } from 'node:crypto';
import {
  chmodSync, closeSync, copyFileSync, existsSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync,
  statSync, symlinkSync, writeSync,
} from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InstallError } from './errors.js';

export const sha256Hex = (b: Buffer | string): string => createHash('sha256').update(b).digest('hex');

export function readIfExists(path: string): Buffer | undefined {
  try { return readFileSync(path); } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Writes through a temp file and rename, keeping the old file's mode (or `mode`). */
export function writeAtomic(path: string, data: Buffer | string, mode?: number): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const keep = mode ?? (existsSync(path) ? statSync(path).mode & 0o7777 : 0o644);
  const tmp = join(dirname(path), `.${relative(dirname(path), path)}.vnode-${process.pid}.tmp`);
  const fd = openSync(tmp, 'w', keep);
  try {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, keep);
  renameSync(tmp, path);
  try { const d = openSync(dirname(path), 'r'); fsyncSync(d); closeSync(d); } catch { /* best effort */ }
}

/** Writes only when different; true when it wrote. */
export function writeIfChanged(path: string, data: Buffer | string, mode?: number): boolean {
  const want = typeof data === 'string' ? Buffer.from(data) : data;
  const have = readIfExists(path);
  if (have && have.equals(want) && (mode === undefined || (statSync(path).mode & 0o7777) === mode)) return false;
  writeAtomic(path, want, mode);
  return true;
}

/** A symlink to `target`, replaced only when it points elsewhere; true when it changed. */
export function linkIfChanged(path: string, target: string): boolean {
  try {
    if (readlinkSync(path) === target) return false;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EINVAL') throw new InstallError('STATE', `${path} exists and is not a symlink: move it away first`);
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const tmp = `${path}.vnode-${process.pid}.tmp`;
  rmSync(tmp, { force: true });
  symlinkSync(target, tmp);
  renameSync(tmp, path);
  return true;
}

// ---- the build ------------------------------------------------------------------------------

/** The directory of the running build: the one with dist/vnode.mjs (a checkout or an installed prefix). */
export function buildRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(d, 'dist', 'vnode.mjs'))) return d;
    d = dirname(d);
  }
  throw new InstallError('NO_BUILD', 'no build found next to this vnode (dist/vnode.mjs): run `npm run build` first');
}

/**
 * npm packages the bundle leaves external (scripts/build.mjs) with what they depend on:
 * the top-level node_modules/<name> directories to copy. A dependency resolves as Node
 * resolves it: in the package's own nested node_modules (copied with the package) or else
 * at the top level; nested packages' dependencies count too.
 */
export function runtimePackages(root: string): string[] {
  const top = join(root, 'node_modules');
  const external = ['koffi', '@grpc/grpc-js', '@grpc/proto-loader'].filter((n) => existsSync(join(top, n)));
  const seen = new Set<string>();
  const visitedDirs = new Set<string>();
  const visitDir = (dir: string) => {
    if (visitedDirs.has(dir) || !existsSync(join(dir, 'package.json'))) return;
    visitedDirs.add(dir);
    // optionalDependencies too: koffi's native module is its platform package (@koromix/koffi-linux-x64).
    const p = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
    for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) {
      let nested: string | undefined;
      for (let at = dir; at.startsWith(top + '/'); at = dirname(at)) {
        if (existsSync(join(at, 'node_modules', d, 'package.json'))) { nested = join(at, 'node_modules', d); break; }
      }
      if (nested) { visitDir(nested); continue; }
      if (!existsSync(join(top, d, 'package.json'))) continue; // an optional dependency for another platform
      seen.add(d);
      visitDir(join(top, d));
    }
  };
  for (const n of external) { seen.add(n); visitDir(join(top, n)); }
  return [...seen].sort();
}

function walk(dir: string, base = dir, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, base, out);
    else if (e.isFile() || e.isSymbolicLink()) out.push(relative(base, p));
  }
  return out;
}

export interface SyncResult { written: number; removed: number; total: number }

/** Makes `dst` hold exactly the files of `src` (bytes and modes); files only in dst are removed. */
export function syncTree(src: string, dst: string): SyncResult {
  const files = walk(src);
  let written = 0;
  for (const f of files) {
    const from = join(src, f);
    const st = statSync(from);
    if (writeIfChanged(join(dst, f), readFileSync(from), st.mode & 0o7777)) written++;
  }
  const want = new Set(files);
  let removed = 0;
  if (existsSync(dst)) {
    for (const f of walk(dst)) if (!want.has(f)) { rmSync(join(dst, f), { force: true }); removed++; }
    pruneEmptyDirs(dst);
  }
  return { written, removed, total: files.length };
}

function pruneEmptyDirs(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const p = join(dir, e.name);
    pruneEmptyDirs(p);
    if (readdirSync(p).length === 0) rmSync(p, { recursive: true });
  }
}

/** Launcher shell script: the prefix's own Node.js and component entry, by absolute host path. */
export function launcher(prefix: string, component: 'vnode' | 'vnode-manager', nodeFlags: string[] = []): string {
  const flags = nodeFlags.map((f) => ` ${f}`).join('');
  return `#!/bin/sh\n# written by vnode install: ${component} from ${prefix}, with its own Node.js\nexec "${prefix}/bin/node"${flags} "${prefix}/dist/bin/${component}" "$@"\n`;
}

/** Whether `p` is a file (not following a final symlink). */
export function isFile(p: string): boolean {
  try { return lstatSync(p).isFile(); } catch { return false; }
}

/** Copies a single file when different; true when it wrote. */
export function copyIfChanged(from: string, to: string): boolean {
  const st = statSync(from);
  if (existsSync(to)) {
    const t = statSync(to);
    if (t.size === st.size && (t.mode & 0o7777) === (st.mode & 0o7777) && readFileSync(to).equals(readFileSync(from))) return false;
  }
  mkdirSync(dirname(to), { recursive: true, mode: 0o755 });
  const tmp = `${to}.vnode-${process.pid}.tmp`;
  copyFileSync(from, tmp);
  chmodSync(tmp, st.mode & 0o7777);
  renameSync(tmp, to);
  return true;
}
