// Runs the real shim binary (from source, through tsx) with its own run dir, and a
// stand-in manager (fixtures/test-manager.ts) that the shim spawns for real.
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const tsxLoader = import.meta.resolve('tsx');

export interface ShimResult {
  code: number;
  stdout: Buffer;
  stderr: string;
  ms: number;
}

export interface Harness {
  dir: string;
  binDir: string;
  runDir: string;
  record: string;
  env: NodeJS.ProcessEnv;
  shim(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<ShimResult>;
  /** Managers the test manager recorded (one line per start). */
  managers(): { pid: number; socket: string; containerd: string; ttrpc: string; namespace: string | null }[];
  cleanup(): Promise<void>;
}

function script(path: string, entry: string) {
  writeFileSync(path, `#!/bin/sh\nexec ${process.execPath} --import ${tsxLoader} ${entry} "$@"\n`);
  chmodSync(path, 0o755);
}

export function createHarness(): Harness {
  const dir = mkdtempSync(join(tmpdir(), 'vnode-shim-it-'));
  const binDir = join(dir, 'bin');
  const runDir = join(dir, 'run');
  const record = join(dir, 'managers.jsonl');
  mkdirSync(binDir);
  script(join(binDir, 'containerd-shim-vnode-v2'), join(here, 'fixtures', 'shim-entry.ts'));
  script(join(binDir, 'test-manager'), join(here, 'fixtures', 'test-manager.ts'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    VNODE_RUN_DIR: runDir,
    VNODE_MANAGER_BIN: join(binDir, 'test-manager'),
    TEST_MANAGER_RECORD: record,
  };
  const h: Harness = {
    dir,
    binDir,
    runDir,
    record,
    env,
    shim(args, extraEnv = {}) {
      return new Promise((resolve) => {
        const t0 = performance.now();
        const p = spawn(join(binDir, 'containerd-shim-vnode-v2'), args, { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        let err = '';
        p.stdout!.on('data', (d: Buffer) => out.push(d));
        p.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
        p.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err, ms: performance.now() - t0 }));
      });
    },
    managers() {
      if (!existsSync(record)) return [];
      return readFileSync(record, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    },
    async cleanup() {
      for (const m of h.managers()) {
        try {
          process.kill(m.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return h;
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/\) [ZX] /.test(st);
  } catch {
    return false;
  }
}

/** Session id of a process (field 6 of /proc/<pid>/stat). */
export function sessionOf(pid: number): number {
  const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[3]);
}

export function run(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}
