// (moved from test/support/tar.ts so that product code can build local images)
// A minimal, deterministic ustar writer: regular files, directories and symlinks.
// Enough for OCI image layers and for the outer archive that `ctr images import` reads.
// Format (POSIX.1-1988 ustar): 512-byte header blocks, content padded to 512, two zero
// blocks at the end. Names longer than 100 bytes are split into prefix (155) + name (100).

export type TarEntry =
  | { type: 'file'; path: string; data: Buffer | string; mode?: number; uid?: number; gid?: number }
  | { type: 'dir'; path: string; mode?: number; uid?: number; gid?: number }
  | { type: 'symlink'; path: string; target: string; uid?: number; gid?: number };

const BLOCK = 512;

function octal(value: number, width: number): string {
  // width includes the terminating NUL
  const s = value.toString(8);
  if (s.length > width - 1) throw new Error(`tar: value ${value} does not fit in ${width - 1} octal digits`);
  return s.padStart(width - 1, '0') + '\0';
}

function splitName(path: string): { name: string; prefix: string } {
  if (Buffer.byteLength(path) <= 100) return { name: path, prefix: '' };
  // Split at a '/' so that name <= 100 and prefix <= 155.
  for (let i = path.length - 1; i > 0; i--) {
    if (path[i] !== '/') continue;
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(name) <= 100 && Buffer.byteLength(prefix) <= 155) return { name, prefix };
  }
  throw new Error(`tar: path too long for ustar: ${path}`);
}

function header(entry: TarEntry, size: number, mtime: number): Buffer {
  const h = Buffer.alloc(BLOCK, 0);
  let path = entry.path.replace(/^\/+/, '');
  if (entry.type === 'dir' && !path.endsWith('/')) path += '/';
  const { name, prefix } = splitName(path);
  const mode = entry.type === 'symlink' ? 0o777 : (entry.mode ?? (entry.type === 'dir' ? 0o755 : 0o644));
  const typeflag = entry.type === 'file' ? '0' : entry.type === 'dir' ? '5' : '2';
  if (entry.type === 'symlink' && Buffer.byteLength(entry.target) > 100) {
    throw new Error(`tar: symlink target too long: ${entry.target}`);
  }
  h.write(name, 0, 100, 'utf8');
  h.write(octal(mode & 0o7777, 8), 100, 8, 'ascii');
  h.write(octal(entry.uid ?? 0, 8), 108, 8, 'ascii');
  h.write(octal(entry.gid ?? 0, 8), 116, 8, 'ascii');
  h.write(octal(size, 12), 124, 12, 'ascii');
  h.write(octal(mtime, 12), 136, 12, 'ascii');
  h.write('        ', 148, 8, 'ascii'); // checksum placeholder: spaces
  h.write(typeflag, 156, 1, 'ascii');
  if (entry.type === 'symlink') h.write(entry.target, 157, 100, 'utf8');
  h.write('ustar\0', 257, 6, 'ascii');
  h.write('00', 263, 2, 'ascii');
  h.write('root', 265, 32, 'ascii');
  h.write('root', 297, 32, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(octal(sum, 7) + ' ', 148, 8, 'ascii');
  return h;
}

/** Builds a tar archive in memory. Entries are written in the given order; mtime is fixed for reproducibility. */
export function buildTar(entries: TarEntry[], mtime = 0): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === 'file' ? (typeof e.data === 'string' ? Buffer.from(e.data) : e.data) : Buffer.alloc(0);
    parts.push(header(e, data.length, mtime));
    if (data.length > 0) {
      parts.push(data);
      const pad = (BLOCK - (data.length % BLOCK)) % BLOCK;
      if (pad) parts.push(Buffer.alloc(pad, 0));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2, 0));
  return Buffer.concat(parts);
}

/** Lists entry paths of a ustar archive (for tests of the writer). */
export function listTar(archive: Buffer): { path: string; type: string; size: number; linkname: string }[] {
  const out: { path: string; type: string; size: number; linkname: string }[] = [];
  let off = 0;
  while (off + BLOCK <= archive.length) {
    const h = archive.subarray(off, off + BLOCK);
    if (h.every((b) => b === 0)) break;
    const str = (s: number, n: number) => h.subarray(s, s + n).toString('utf8').replace(/\0.*$/s, '');
    const name = str(0, 100);
    const prefix = str(345, 155);
    const size = parseInt(str(124, 12).trim() || '0', 8);
    out.push({ path: prefix ? `${prefix}/${name}` : name, type: str(156, 1), size, linkname: str(157, 100) });
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
  }
  return out;
}
