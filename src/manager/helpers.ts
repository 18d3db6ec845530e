// Where the small C helpers live: next to the bundle (dist/), or dist/ when running
// from the sources (tests). VNODE_HELPERS_DIR overrides.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Helper = 'vnode-init' | 'vnode-tty' | 'vnode-hold' | 'vnode-bind' | 'vnode-runtime-exec' | 'vnode-cni' | 'vnode-mount' | 'vnode-notify';

export class HelperMissingError extends Error {
  override name = 'HelperMissingError';
  readonly code = 'VNODE_HELPER_MISSING';
}

export function helperPath(name: Helper): string {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const dirs = [process.env.VNODE_HELPERS_DIR, here, join(here, '../../dist')].filter((d): d is string => !!d);
  for (const d of dirs) if (existsSync(join(d, name))) return join(d, name);
  throw new HelperMissingError(`${name} is missing (looked in ${dirs.join(', ')}): run \`npm run build\``);
}
