// Locations the test harness shares: the repository root and its (gitignored) .cache.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const cacheDir = join(repoRoot, '.cache');
export const imagesCacheDir = join(cacheDir, 'images');
/** The repository's bin/ (containerd-shim-vnode-v2 etc., produced by `npm run build`). */
export const repoBinDir = join(repoRoot, 'bin');
