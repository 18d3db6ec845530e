// IP addresses between their bytes (netlink attributes) and their text, written as
// iproute2 writes them (inet_ntop: IPv6 with the longest run of two or more zero
// groups as "::", the first of equal runs, lowercase; ::ffff:a.b.c.d for v4-mapped).
// Link-layer addresses as colon-separated hex. Pure.

export function formatIp(b: Buffer): string {
  if (b.length === 4) return [...b].join('.');
  if (b.length !== 16) return formatMac(b);
  const w: number[] = [];
  for (let i = 0; i < 16; i += 2) w.push(b.readUInt16BE(i));
  if (w.slice(0, 5).every((x) => x === 0) && w[5] === 0xffff) return `::ffff:${[...b.subarray(12)].join('.')}`;
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (w[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > bestLen) [best, bestLen] = [i, j - i];
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(w);
  return `${hex(w.slice(0, best))}::${hex(w.slice(best + bestLen))}`;
}

function parseV4(s: string): Buffer | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return Buffer.from(parts.map(Number));
}

function parseV6(s: string): Buffer | undefined {
  let groups: number[] = [];
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const words = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const it = items[i]!;
      if (i === items.length - 1 && it.includes('.')) {
        const v4 = parseV4(it);
        if (!v4) return undefined;
        out.push(v4.readUInt16BE(0), v4.readUInt16BE(2));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(it)) out.push(parseInt(it, 16));
      else return undefined;
    }
    return out;
  };
  const head = words(halves[0]!);
  const tail = halves.length === 2 ? words(halves[1]!) : [];
  if (!head || !tail) return undefined;
  if (halves.length === 2) {
    if (head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else groups = head;
  if (groups.length !== 8) return undefined;
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(g, i * 2));
  return b;
}

/** The bytes of an IPv4 or IPv6 address in text; throws on anything else. */
export function parseIp(s: string, family?: 'inet' | 'inet6'): Buffer {
  const b = family === 'inet' ? parseV4(s) : family === 'inet6' ? parseV6(s) : s.includes(':') ? parseV6(s) : parseV4(s);
  if (!b) throw new Error(`${JSON.stringify(s)} is not an ${family === 'inet6' ? 'IPv6' : family === 'inet' ? 'IPv4' : 'IP'} address`);
  return b;
}

export function formatMac(b: Buffer): string {
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join(':');
}

/** A route's destination as `ip route` prints it: "default", a bare host address, or address/length. */
export function formatPrefix(addr: string | undefined, len: number, family: 'inet' | 'inet6'): string {
  if (len === 0) return 'default';
  const full = family === 'inet' ? 32 : 128;
  const text = addr ?? (family === 'inet' ? '0.0.0.0' : '::');
  return len === full ? text : `${text}/${len}`;
}

/** The inverse of formatPrefix. */
export function parsePrefix(s: string, family: 'inet' | 'inet6'): { addr?: Buffer; len: number } {
  if (s === 'default') return { len: 0 };
  const full = family === 'inet' ? 32 : 128;
  const [a, l] = s.split('/');
  const len = l === undefined ? full : Number(l);
  if (!Number.isInteger(len) || len < 0 || len > full) throw new Error(`${JSON.stringify(s)}: bad prefix length`);
  return len === 0 ? { len } : { addr: parseIp(a!, family), len };
}
