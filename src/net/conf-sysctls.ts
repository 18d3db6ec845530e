// Per-interface sysctls (/proc/sys/net/ipv{4,6}/conf/<dev>/*) of another network
// namespace. /proc/sys/net resolves paths in the namespace of the thread that opens
// them, so they are read and written with this thread in that namespace, synchronously.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { inNetns } from '../sys/index.js';

const FAMILIES = ['ipv4', 'ipv6'] as const;
const CONF_KEY = /^ipv[46]\/conf\/[A-Za-z0-9_.@-]+\/[a-z0-9_]+$/;

/** "ipv4/conf/eth0/arp_notify" → "1" for conf/default and each of `devs` (unreadable ones, like stable_secret, left out). */
export function readConfSysctls(netns: string, devs: string[]): Map<string, string> {
  return inNetns(netns, () => {
    const out = new Map<string, string>();
    for (const fam of FAMILIES) {
      for (const dev of ['default', ...devs]) {
        const dir = `${fam}/conf/${dev}`;
        let names: string[];
        try {
          names = readdirSync(`/proc/sys/net/${dir}`);
        } catch {
          continue; // IPv6 off, or no such link
        }
        for (const n of names) {
          try {
            out.set(`${dir}/${n}`, readFileSync(`/proc/sys/net/${dir}/${n}`, 'utf8').replace(/\n$/, ''));
          } catch {
            // write-only or refused (EIO for an unset stable_secret)
          }
        }
      }
    }
    return out;
  });
}

/** Writes `values` (key as readConfSysctls gives it); the keys that could not be written. */
export function writeConfSysctls(netns: string, values: [string, string][]): string[] {
  if (values.length === 0) return [];
  return inNetns(netns, () => {
    const failed: string[] = [];
    for (const [k, v] of values) {
      if (!CONF_KEY.test(k) || k.includes('..')) {
        failed.push(k);
        continue;
      }
      try {
        writeFileSync(`/proc/sys/net/${k}`, `${v}\n`);
      } catch {
        failed.push(k);
      }
    }
    return failed;
  });
}
