// Builds the one bundled entry point (dist/vnode.mjs), the native helper
// (dist/vnode-init) and the thin launchers in bin/ that select a component by name.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const bin = join(root, 'bin');
rmSync(join(dist, 'chunks'), { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
mkdirSync(bin, { recursive: true });

await build({
  entryPoints: { vnode: join(root, 'src/main.ts') },
  outdir: dist,
  outExtension: { '.js': '.mjs' },
  // Each component is a dynamic import in main.ts: with splitting, a component's
  // dependencies load only when it runs (the shim, started per container, must not
  // pay for the CLI's gRPC stack).
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  // koffi ships prebuilt .node files it locates at run time; grpc is only used by the CLI and tests.
  external: ['koffi', '@grpc/grpc-js'],
  banner: { js: "import { createRequire as __vnodeCreateRequire } from 'node:module'; const require = __vnodeCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

// The per-vNode init/reaper is C: it must stay tiny (no Node.js per vNode) and outlive the manager.
for (const helper of ['vnode-init', 'vnode-tty', 'vnode-hold', 'vnode-bind', 'vnode-runtime-exec', 'vnode-cni', 'vnode-mount', 'vnode-notify']) {
  execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-static', '-o', join(dist, helper), join(root, `native/${helper}.c`)], { stdio: 'inherit' });
}

// Launchers: one per component name (main.ts dispatches on it), in dist/bin/; bin/ holds
// the ones people and containerd call.
const components = ['vnode', 'vnode-manager', 'containerd-shim-vnode-v2'];
mkdirSync(join(dist, 'bin'), { recursive: true });
for (const name of components) {
  for (const [dir, rel] of [[join(dist, 'bin'), '../vnode.mjs'], [bin, '../dist/vnode.mjs']]) {
    if (dir === bin && name === 'containerd-shim-vnode-v2') continue;
    const path = join(dir, name);
    writeFileSync(path, `#!/usr/bin/env node\nimport '${rel}';\n`);
    chmodSync(path, 0o755);
  }
}
// containerd execs the shim for every sandbox and container only to learn the manager's
// address: a C front answers that when the manager runs and hands all else to Node.js.
execFileSync('cc', ['-O2', '-Wall', '-Wextra', '-Werror', '-static', '-o', join(bin, 'containerd-shim-vnode-v2'), join(root, 'native/shim-start.c')], { stdio: 'inherit' });
console.log('built dist/vnode.mjs (+ chunks), dist/{vnode-init,vnode-tty,vnode-hold,vnode-bind,vnode-runtime-exec,vnode-cni,vnode-mount,vnode-notify}, dist/bin/*, bin/{vnode,vnode-manager,containerd-shim-vnode-v2}');
