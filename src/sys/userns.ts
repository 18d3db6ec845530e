// A short-lived user namespace with mappings of the caller's choice, for an ID-mapped
// mount whose mapping is not a vNode's (mount_setattr takes the mapping from a user
// namespace; the namespace is only needed while the mount is made).
import { spawn } from 'node:child_process';
import { readlinkSync, writeFileSync } from 'node:fs';

/** One line of /proc/PID/uid_map: `inside` in the namespace is `outside` on the host. */
export interface IdMapLine {
  inside: number;
  outside: number;
  size: number;
}

export interface ThrowawayUserns {
  /** /proc/PID/ns/user of the namespace's only process. */
  path: string;
  close(): void;
}

const mapText = (lines: IdMapLine[]) => lines.map((l) => `${l.inside} ${l.outside} ${l.size}\n`).join('');

/** Starts `unshare -U sleep` and writes its maps; close() ends it, and the namespace with it. */
export async function throwawayUserns(uidMap: IdMapLine[], gidMap: IdMapLine[]): Promise<ThrowawayUserns> {
  const child = spawn('unshare', ['-U', 'sleep', '120'], { stdio: 'ignore' });
  const close = () => { try { child.kill('SIGKILL'); } catch { /* gone */ } };
  const failed = new Promise<never>((_, reject) => child.once('error', (e) => reject(new Error(`cannot start unshare -U (util-linux): ${e.message}`))));
  failed.catch(() => undefined);
  try {
    await Promise.race([new Promise((r) => child.once('spawn', r)), failed]);
    const pid = child.pid!;
    const own = readlinkSync('/proc/self/ns/user');
    for (let i = 0; ; i++) {
      let ns = '';
      try { ns = readlinkSync(`/proc/${pid}/ns/user`); } catch { /* exec'ing */ }
      if (ns && ns !== own) break;
      if (i === 250 || child.exitCode !== null) throw new Error(`unshare -U (pid ${pid}) made no user namespace`);
      await new Promise((r) => setTimeout(r, 4));
    }
    writeFileSync(`/proc/${pid}/uid_map`, mapText(uidMap));
    writeFileSync(`/proc/${pid}/setgroups`, 'deny');
    writeFileSync(`/proc/${pid}/gid_map`, mapText(gidMap));
    return { path: `/proc/${pid}/ns/user`, close };
  } catch (e) {
    close();
    throw e;
  }
}
