// Keeps containerd's connections open across a manager crash: vnode-hold (C) takes a
// copy of each accepted connection's descriptor; a restarted manager takes them
// back and serves them, so containerd never sees its shim connections drop (which
// it would report as every task exiting). The seccomp listeners of running containers
// are kept the same way (ids starting with LISTENER_ID_PREFIX), so the next manager
// answers their notifications instead of the kernel failing them.
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { writeFifoLine } from '../sys/index.js';
import { pidfdGetfd, pidfdOpen } from '../sys/index.js';
import { helperPath } from './helpers.js';
import { livePidInFile, startTimeOf } from '../sys/index.js';

export interface HolderFiles {
  control: string;
  list: string;
  pid: string;
}

export const LISTENER_ID_PREFIX = 'sc-';

/** What a restarted manager takes back: containerd's connections and the seccomp listeners. */
export interface Kept {
  sockets: Socket[];
  listeners: { id: string; fd: number }[];
}

export function holderFiles(instanceDir: string): HolderFiles {
  return { control: join(instanceDir, 'hold.ctl'), list: join(instanceDir, 'hold.list'), pid: join(instanceDir, 'hold.pid') };
}

export class ConnectionHolder {
  private pid = 0;
  private readonly ids = new WeakMap<object, string>();

  /**
   * `respawn`: how vnode-hold starts a manager again when this one dies while
   * connections are held (the shim's `start` against containerd's `address`).
   */
  constructor(
    private readonly files: HolderFiles,
    private readonly log: (m: string) => void,
    private readonly respawn?: { address: string; command: string[] },
  ) {}

  /** Starts a holder or reconnects to the running one; returns what it kept. */
  async start(): Promise<Kept> {
    const running = this.running();
    if (running) {
      this.pid = running;
      const adopted = this.takeBack();
      this.send(`manager ${process.pid}`);
      return adopted;
    }
    this.pid = await new Promise<number>((resolve, reject) => {
      const args = ['--manager', String(process.pid), '--control', this.files.control, '--list', this.files.list];
      if (this.respawn) args.push('--address', this.respawn.address, '--respawn', ...this.respawn.command);
      const child = spawn(helperPath('vnode-hold'), args, {
        detached: true,
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      child.stdout!.once('data', () => resolve(child.pid!));
      child.on('error', reject);
      child.on('exit', (code) => reject(new Error(`vnode-hold exited (${code}) before it was ready`)));
      child.unref();
    });
    writeFileSync(this.files.pid, `${this.pid} ${startTimeOf(this.pid) ?? ''}\n`);
    return { sockets: [], listeners: [] };
  }

  private running(): number | undefined {
    return livePidInFile(this.files.pid);
  }

  private takeBack(): Kept {
    let list = '';
    try {
      list = readFileSync(this.files.list, 'utf8');
    } catch {
      return { sockets: [], listeners: [] };
    }
    const pidfd = pidfdOpen(this.pid);
    const out: Socket[] = [];
    const listeners: Kept['listeners'] = [];
    try {
      for (const line of list.split('\n')) {
        const [id, held] = line.trim().split(' ');
        if (!id || !held) continue;
        try {
          const fd = pidfdGetfd(pidfd, Number(held));
          if (id.startsWith(LISTENER_ID_PREFIX)) {
            listeners.push({ id, fd });
            continue;
          }
          const socket = new Socket({ fd, readable: true, writable: true });
          this.ids.set(socket, id);
          out.push(socket);
        } catch (e) {
          this.log(`connection ${id} could not be taken back: ${(e as Error).message}`);
          this.send(`drop ${id}`);
        }
      }
    } finally {
      closeSync(pidfd);
    }
    this.log(`took back ${out.length} containerd connection(s) and ${listeners.length} seccomp listener(s) from vnode-hold ${this.pid}`);
    return { sockets: out, listeners };
  }

  /** A seccomp listener to keep across a restart, under `id` (LISTENER_ID_PREFIX…); a repeated id is ignored. */
  keep(fd: number, id: string): void {
    this.send(`take ${fd} ${id}`);
  }

  /** The listener (or connection) `id` is not needed any more. */
  drop(id: string): void {
    this.send(`drop ${id}`);
  }

  /** A new connection (or one taken back): the holder keeps a copy. */
  hold(socket: Socket, fd: number): void {
    if (fd < 0) return;
    let id = this.ids.get(socket);
    if (!id) {
      id = String(fstatSync(fd).ino);
      this.ids.set(socket, id);
    }
    this.send(`take ${fd} ${id}`);
  }

  /** The id the holder knows a connection by (stable across manager restarts). */
  idOf(socket: Socket): string | undefined {
    return this.ids.get(socket);
  }

  /** containerd closed the connection: the copy goes too. */
  release(socket: Socket): void {
    const id = this.ids.get(socket);
    if (id) this.send(`drop ${id}`);
  }

  /**
   * No task is left, so there is nothing to keep: the holder exits (its copies of
   * containerd's connections close with it; containerd calls the shim's `start` for the
   * next task anyway). A stopping service then leaves no process behind in its cgroup,
   * and no manager is respawned for a containerd that has no vNode task.
   */
  async stop(timeoutMs = 2_000): Promise<void> {
    const pid = this.running();
    if (!pid) return;
    try { process.kill(pid, 'SIGTERM'); } catch { return; }
    const deadline = Date.now() + timeoutMs;
    while (this.running() === pid && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    if (this.running() === pid) { this.log(`vnode-hold ${pid} did not exit within ${timeoutMs} ms of SIGTERM`); return; }
    rmSync(this.files.pid, { force: true });
  }

  private send(line: string): void {
    try {
      writeFifoLine(this.files.control, line);
    } catch (e) {
      this.log(`vnode-hold: ${(e as Error).message}`);
    }
  }
}
