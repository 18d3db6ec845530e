// The small checkers of manifest fields shared by the Pod, volume and ConfigMap/Secret
// readers: each takes the value and its kubectl-style field path and throws a
// ManifestError naming that path. Pure.
import { CliErrorCode, UsageError } from './errors.js';

export class ManifestError extends UsageError {
  override name = 'ManifestError';
  constructor(readonly field: string, detail: string) {
    super(field ? `${field}: ${detail}` : detail, CliErrorCode.manifest);
  }
}

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export function obj(v: unknown, field: string): Obj {
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new ManifestError(field, `must be an object (got ${typeName(v)})`);
  return v;
}

export function arr(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ManifestError(field, `must be a list (got ${typeName(v)})`);
  return v;
}

export function str(v: unknown, field: string, required = false): string | undefined {
  if (v === undefined || v === null || v === '') {
    if (required) throw new ManifestError(field, 'Required value');
    return undefined;
  }
  if (typeof v !== 'string') throw new ManifestError(field, `must be a string (got ${typeName(v)})`);
  return v;
}

export function bool(v: unknown, field: string): boolean | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new ManifestError(field, `must be true or false (got ${JSON.stringify(v)})`);
  return v;
}

export function int(v: unknown, field: string, min = 0, max = 2 ** 31 - 1): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new ManifestError(field, `must be an integer between ${min} and ${max} (got ${JSON.stringify(v)})`);
  }
  return v;
}

export function strList(v: unknown, field: string): string[] {
  return arr(v, field).map((s, i) => {
    if (typeof s !== 'string') throw new ManifestError(`${field}[${i}]`, `must be a string (got ${typeName(s)})`);
    return s;
  });
}

export function strMap(v: unknown, field: string): Record<string, string> {
  const o = obj(v, field);
  const out: Record<string, string> = {};
  for (const [k, val] of Object.entries(o)) {
    if (typeof val !== 'string') throw new ManifestError(`${field}.${k}`, `must be a string (got ${typeName(val)}; quote it in YAML)`);
    out[k] = val;
  }
  return out;
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

export const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export function dnsLabel(v: string, field: string): string {
  if (v.length > 63 || !DNS1123_LABEL.test(v)) {
    throw new ManifestError(field, `Invalid value "${v}": must be a lowercase RFC 1123 label (a-z, 0-9, '-', at most 63 characters)`);
  }
  return v;
}

export function dnsSubdomain(v: string, field: string): string {
  if (v.length > 253 || !DNS1123_SUBDOMAIN.test(v)) {
    throw new ManifestError(field, `Invalid value "${v}": must be a lowercase RFC 1123 subdomain (a-z, 0-9, '-', '.')`);
  }
  return v;
}

