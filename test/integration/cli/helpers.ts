// Runs the `vnode` command (from the sources, through tsx) as a child process.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from '../../support/paths.js';

export const ENTRY = join(repoRoot, 'src', 'main.ts');

export interface VnodeResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface VnodeProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  done: Promise<VnodeResult>;
}

/** The built launcher, what the README runs (after npm run build). */
export const BIN_VNODE = join(repoRoot, 'bin', 'vnode');
export const isBuilt = () => existsSync(join(repoRoot, 'dist', 'vnode.mjs')) && existsSync(BIN_VNODE);

/**
 * `input`: written to vnode's stdin, which is then closed (otherwise stdin is /dev/null).
 * VNODE_TEST_BIN=1 in `env` runs the built bin/vnode instead of the sources.
 */
export function startVnode(args: string[], env: NodeJS.ProcessEnv = {}, input?: string): VnodeProcess {
  const [file, pre] = env['VNODE_TEST_BIN'] === '1' ? [BIN_VNODE, []] : [process.execPath, ['--import', 'tsx', ENTRY]];
  const child = spawn(file, [...pre, ...args], {
    cwd: repoRoot,
    env: { ...process.env, ...env },
    stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });
  if (input !== undefined) child.stdin!.end(input);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const done = new Promise<VnodeResult>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal, stdout: out, stderr: err }));
  });
  return { child, stdout: () => out, stderr: () => err, done };
}

/** Runs vnode to completion; kills it after timeoutMs (the result then has signal SIGKILL). */
export async function vnode(args: string[], env: NodeJS.ProcessEnv = {}, timeoutMs = 120_000, input?: string): Promise<VnodeResult> {
  const p = startVnode(args, env, input);
  const timer = setTimeout(() => p.child.kill('SIGKILL'), timeoutMs);
  try {
    return await p.done;
  } finally {
    clearTimeout(timer);
  }
}

export const describeResult = (r: VnodeResult) => `exit ${r.code} (signal ${r.signal})\n--- stdout\n${r.stdout}--- stderr\n${r.stderr}`;

const manifestDirs: string[] = [];

export function removeManifests(): void {
  for (const d of manifestDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

/** Writes a manifest to a temp file; returns its path and the pod's uid (fixed, so that its pod dir can be checked). */
export function manifest(yaml: (uid: string) => string): { path: string; uid: string } {
  const uid = randomUUID();
  const dir = mkdtempSync(join(tmpdir(), 'vnode-cli-test-'));
  manifestDirs.push(dir);
  const path = join(dir, 'pod.yaml');
  writeFileSync(path, yaml(uid));
  return { path, uid };
}

export const podDirOf = (uid: string) => join('/var/lib/kubelet/pods', uid);
export const podDirExists = (uid: string) => existsSync(podDirOf(uid));

export async function waitUntil(what: string, fn: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
