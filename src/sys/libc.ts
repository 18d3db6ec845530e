// The one place libc is loaded through koffi: Linux calls that Node.js lacks.
// Components declare the functions they need next to their own code (src/sys/*.ts)
// through `libc.func(...)`, so the library is loaded once per process.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// koffi ships prebuilt binaries; it is loaded lazily so components that never
// make a raw syscall (the shim's `start`) do not pay for it.
type Koffi = typeof import('koffi');
let koffiModule: Koffi | undefined;
let libcHandle: ReturnType<Koffi['load']> | undefined;

export function koffi(): Koffi {
  koffiModule ??= require('koffi') as Koffi;
  return koffiModule;
}

export function libc(): ReturnType<Koffi['load']> {
  libcHandle ??= koffi().load('libc.so.6');
  return libcHandle;
}

/** errno of the last failed libc call on this thread. */
export function errno(): number {
  return koffi().errno();
}

/** An Error carrying the errno name, like Node's own system errors: `code` is that name (ENOENT, EPERM), stable as errno itself. */
export class SyscallError extends Error {
  constructor(readonly syscall: string, readonly errno: number, detail = '') {
    super(`${syscall}${detail ? ` ${detail}` : ''}: ${errnoName(errno)} (${errno})`);
    this.name = 'SyscallError';
  }
  get code(): string {
    return errnoName(this.errno);
  }
}

import { constants } from 'node:os';
const names = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v as number, k]));
export function errnoName(n: number): string {
  return names.get(n) ?? `E${n}`;
}
