// A layer made of installed Debian packages: every file `dpkg -L` lists for them (no
// docs, manuals or translations) plus the shared libraries their executables and
// modules load (`ldd`), laid out as a merged-/usr system (/bin, /sbin, /lib, /lib64
// are links into /usr). For images of dynamically linked tools (iproute2, iptables)
// without a registry or a Debian base image.
import { execFileSync } from 'node:child_process';
import { closeSync, lstatSync, openSync, readFileSync, readlinkSync, readSync, realpathSync } from 'node:fs';
import { posix } from 'node:path';
import type { TarEntry } from './image-tar.js';
import { LocalImageError } from './image-local.js';

const SKIP = /^\/usr\/share\/(doc|man|info|locale|lintian|bash-completion)\//;
const MERGED: Record<string, string> = { '/bin': '/usr/bin', '/sbin': '/usr/sbin', '/lib': '/usr/lib', '/lib64': '/usr/lib64' };

/** The /usr path of a path under a merged top-level directory (/bin/ip → /usr/bin/ip). */
export function mergedUsrPath(path: string): string {
  for (const [top, usr] of Object.entries(MERGED)) if (path === top || path.startsWith(`${top}/`)) return usr + path.slice(top.length);
  return path;
}

function isElf(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(4);
    return readSync(fd, b, 0, 4, 0) === 4 && b.toString('latin1') === '\x7fELF';
  } finally {
    closeSync(fd);
  }
}

/** Paths `ldd` names for an ELF file (libraries and the loader), as ldd prints them. */
export function lddPaths(lddOutput: string): string[] {
  const out: string[] = [];
  for (const line of lddOutput.split('\n')) {
    const m = /=>\s+(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) out.push(m[1]!);
  }
  return out;
}

export class PackageLayer {
  private files = new Map<string, TarEntry>();

  /** Adds the files of installed packages (throws with what to install when one is missing). */
  addPackages(packages: string[]): this {
    for (const pkg of packages) {
      let list: string;
      try {
        list = execFileSync('dpkg', ['-L', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      } catch {
        throw new LocalImageError(`Debian package ${pkg} is not installed: apt-get install ${pkg}`);
      }
      for (const p of list.split('\n').map((s) => s.trim())) if (p.startsWith('/') && p !== '/.' && !SKIP.test(p)) this.addPath(p);
    }
    return this;
  }

  /** A host file or symlink at its /usr path; an ELF file brings the libraries it needs. */
  addPath(hostPath: string): void {
    if (MERGED[hostPath]) return; // /bin itself: the layer's own link into /usr
    const path = mergedUsrPath(hostPath);
    if (this.files.has(path)) return;
    let st;
    try {
      st = lstatSync(hostPath);
    } catch {
      return; // listed but not installed (diverted, or removed by the admin)
    }
    const rel = path.slice(1);
    if (st.isSymbolicLink()) {
      const target = readlinkSync(hostPath);
      // a link through /etc/alternatives is resolved: the image has no alternatives system
      const t = target.startsWith('/etc/alternatives/') ? mergedUsrPath(realpathSync(hostPath)) : target;
      this.files.set(path, { type: 'symlink', path: rel, target: t });
      const resolved = posix.isAbsolute(t) ? t : posix.join(posix.dirname(path), t);
      this.addPath(resolved);
    } else if (st.isFile()) {
      this.files.set(path, { type: 'file', path: rel, data: readFileSync(hostPath), mode: st.mode & 0o7777 });
      if (isElf(hostPath)) this.addLibrariesOf(hostPath);
    }
  }

  private addLibrariesOf(elf: string): void {
    let out = '';
    try {
      out = execFileSync('ldd', [elf], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      return; // static, or not loadable here: nothing to add
    }
    for (const lib of lddPaths(out)) this.addPath(lib);
  }

  /** An extra symlink (e.g. what an alternative would name: usr/sbin/iptables → iptables-nft). */
  link(path: string, target: string): this {
    this.files.set(`/${path}`, { type: 'symlink', path, target });
    return this;
  }

  has(path: string): boolean {
    return this.files.has(mergedUsrPath(path));
  }

  /** The layer: parent directories, the merged-/usr links, then the files. */
  entries(): TarEntry[] {
    const dirs = new Set<string>(['usr', 'usr/bin', 'usr/sbin', 'usr/lib', 'usr/lib64']);
    for (const p of this.files.keys()) {
      const parts = p.slice(1).split('/');
      for (let i = 1; i < parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
    }
    const out: TarEntry[] = [...dirs].sort().map((d) => ({ type: 'dir' as const, path: d, mode: 0o755 }));
    for (const [top, usr] of Object.entries(MERGED)) out.push({ type: 'symlink', path: top.slice(1), target: usr.slice(1) });
    return [...out, ...[...this.files.values()].sort((a, b) => a.path.localeCompare(b.path))];
  }
}
