// A light private containerd for protocol tests: its own root, state, sockets and
// opt dir under one temp dir, CRI disabled. Bookworm's 1.6 by default
// (VNODE_TEST_CONTAINERD_BIN picks another containerd binary; ctr is taken from the same dir).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const execFileP = promisify(execFile);

export interface PrivateContainerd {
  dir: string;
  address: string;
  ttrpcAddress: string;
  ctrPath: string;
  ctr(...args: string[]): Promise<string>;
  /** Starts `ctr events`; lines() gives what it printed so far. */
  events(): { proc: ChildProcess; lines(): string[]; stop(): void };
  /** Stops containerd (SIGTERM, then SIGKILL); the dirs stay for restart(). */
  stopDaemon(): Promise<void>;
  restart(): Promise<void>;
  log(): string;
  /** Stops everything and removes the temp dir. */
  cleanup(): Promise<void>;
}

export function containerdBinary(): string {
  return process.env.VNODE_TEST_CONTAINERD_BIN ?? '/usr/bin/containerd';
}

/** Every containerd on this machine: bookworm's 1.6, and 1.7 / 2.x unpacked by scripts/setup-host.sh. */
export function containerdBinaries(): { version: string; bin: string }[] {
  const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  return [
    { version: '1.6', bin: '/usr/bin/containerd' },
    { version: '1.7', bin: join(repo, '.cache/containerd/1.7/usr/bin/containerd') },
    { version: '2', bin: join(repo, '.cache/containerd/2/usr/bin/containerd') },
  ].filter((c) => existsSync(c.bin));
}

export function canRunContainerd(bin = containerdBinary()): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (containerd runs as root)';
  if (!existsSync(bin)) return `no containerd at ${bin}`;
  return undefined;
}

export async function startPrivateContainerd(o: { env?: NodeJS.ProcessEnv; pathPrefix?: string; bin?: string } = {}): Promise<PrivateContainerd> {
  const bin = o.bin ?? containerdBinary();
  const ctrPath = join(dirname(bin), 'ctr');
  const dir = mkdtempSync(join(tmpdir(), 'vnode-ctd-proto-'));
  const address = join(dir, 'containerd.sock');
  const ttrpcAddress = `${address}.ttrpc`;
  const config = join(dir, 'config.toml');
  mkdirSync(join(dir, 'opt'));
  writeFileSync(
    config,
    [
      'version = 2',
      `root = "${dir}/root"`,
      `state = "${dir}/state"`,
      'disabled_plugins = ["io.containerd.grpc.v1.cri"]',
      '[grpc]',
      `  address = "${address}"`,
      '[debug]',
      '  level = "debug"',
      '[plugins."io.containerd.internal.v1.opt"]',
      `  path = "${dir}/opt"`,
      '',
    ].join('\n'),
  );
  const logPath = join(dir, 'containerd.log');
  let daemon: ChildProcess | undefined;
  const eventProcs = new Set<ChildProcess>();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...o.env,
    PATH: [o.pathPrefix, dirname(process.execPath), process.env.PATH].filter(Boolean).join(':'),
  };

  const ctr = async (...args: string[]) => {
    const { stdout } = await execFileP(ctrPath, ['--address', address, ...args], { timeout: 60_000 });
    return stdout;
  };

  async function startDaemon() {
    const out = openSync(logPath, 'a');
    daemon = spawn(bin, ['--config', config], { stdio: ['ignore', out, out], env });
    closeSync(out);
    const deadline = Date.now() + 20_000;
    for (;;) {
      if (daemon.exitCode !== null) throw new Error(`containerd exited (${daemon.exitCode}): ${readFileSync(logPath, 'utf8').slice(-2000)}`);
      if (existsSync(address) && existsSync(ttrpcAddress)) {
        try {
          await ctr('version');
          return;
        } catch {
          /* not yet */
        }
      }
      if (Date.now() > deadline) throw new Error(`containerd did not come up: ${readFileSync(logPath, 'utf8').slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async function stopDaemon() {
    const d = daemon;
    daemon = undefined;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const exited = new Promise((r) => d.once('exit', r));
    d.kill('SIGTERM');
    const t = setTimeout(() => d.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(t);
  }

  await startDaemon();
  return {
    dir,
    address,
    ttrpcAddress,
    ctrPath,
    ctr,
    events() {
      const proc = spawn(ctrPath, ['--address', address, 'events'], { stdio: ['ignore', 'pipe', 'pipe'] });
      eventProcs.add(proc);
      let buf = '';
      proc.stdout!.setEncoding('utf8').on('data', (d: string) => (buf += d));
      proc.stderr!.setEncoding('utf8').on('data', (d: string) => (buf += d));
      return {
        proc,
        lines: () => buf.split('\n').filter(Boolean),
        stop: () => {
          proc.kill('SIGKILL');
          eventProcs.delete(proc);
        },
      };
    },
    stopDaemon,
    restart: startDaemon,
    log: () => readFileSync(logPath, 'utf8'),
    async cleanup() {
      for (const p of eventProcs) p.kill('SIGKILL');
      await stopDaemon();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function waitFor<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
