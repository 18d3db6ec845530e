// CRI's recursive read-only mounts (KEP-3857): containerd 2.x puts "rro" in a bind
// mount's options when the handler declares the feature. vnode declares it whatever
// OCI runtime it drives (runc knows "rro" from 1.1; a runtime that does not would pass
// it on as mount data, which a bind ignores, leaving the mount writable), so it never
// hands "rro" to the runtime: the mount becomes "ro" (the top mount, made read-only by
// the runtime) and the vnode-bind createContainer hook, which runs in the container's
// mount namespace after the runtime's mounts, makes it and every mount below it
// read-only with mount_setattr(AT_RECURSIVE).
import { posix } from 'node:path';
import type { OciSpec } from './spec.js';
import { InvalidSpecError } from './spec.js';

/** Rewrites the "rro" mounts of `spec` to "ro" and adds the hook that makes them read-only recursively. */
export function planRecursiveReadOnly(spec: OciSpec, rootfsPath: string, bindHelper: string | undefined): void {
  const paths: string[] = [];
  for (const m of spec.mounts ?? []) {
    const opts = m.options ?? [];
    if (!opts.includes('rro')) continue;
    if (opts.includes('rw')) throw new InvalidSpecError(`mount ${m.destination}: "rro" conflicts with "rw"`);
    m.options = [...new Set(opts.map((o) => (o === 'rro' ? 'ro' : o)))];
    paths.push(posix.join(rootfsPath, m.destination));
  }
  if (paths.length === 0) return;
  if (!bindHelper) throw new InvalidSpecError('recursive read-only mounts need the vnode-bind helper, which this manager was not given');
  const hooks = (spec.hooks ?? {}) as Record<string, { path: string; args?: string[] }[]>;
  hooks.createContainer = [...(hooks.createContainer ?? []), { path: bindHelper, args: ['vnode-bind', ...paths.flatMap((p) => ['rro', '-', p])] }];
  spec.hooks = hooks;
}
