// Component boundaries (scripts/check-imports.mjs): a component is imported only
// through its index.ts. The checker is tested on a tree made here, then run on src/.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: a plain .mjs script without type declarations
import { findViolations, importsOf } from '../../../scripts/check-imports.mjs';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('importsOf finds static, type-only, re-export and dynamic imports, and skips packages', () => {
  const text = [
    "import { a } from './a.js';",
    "import type { B } from '../b/index.js';",
    "export { c } from '../c/c.js';",
    "const d = await import('../d/main.js');",
    "import { readFileSync } from 'node:fs';",
    "import './side-effect.js';",
  ].join('\n');
  assert.deepEqual(importsOf(text), ['./a.js', '../b/index.js', '../c/c.js', '../d/main.js', './side-effect.js']);
});

test('findViolations reports imports of another component\'s internals, and only those', () => {
  const src = mkdtempSync(join(tmpdir(), 'vnode-imports-'));
  try {
    const file = (p: string, text: string) => {
      mkdirSync(dirname(join(src, p)), { recursive: true });
      writeFileSync(join(src, p), text);
    };
    file('main.ts', "const m = await import('./alpha/main.js');\nimport { x } from './beta/inner.js';\n");
    file('alpha/index.ts', "export { a } from './a.js';\n");
    file('alpha/a.ts', "import { b } from '../beta/index.js';\nimport type { I } from '../beta/inner.js';\nimport { own } from './own.js';\n");
    file('alpha/main.ts', "import { gamma } from '../group/gamma/index.js';\nimport { g } from '../group/gamma/g.js';\n");
    file('beta/index.ts', "export { b } from './inner.js';\n");
    file('beta/inner.ts', 'export const b = 1;\n');
    file('group/gamma/index.ts', "export { g } from './g.js';\n");
    file('group/gamma/g.ts', "import { b } from '../../beta/index.js';\n");
    const found = findViolations(src).map((v: { file: string; spec: string }) => `${v.file} -> ${v.spec}`).sort();
    assert.deepEqual(found, [
      'alpha/a.ts -> ../beta/inner.js',
      'alpha/main.ts -> ../group/gamma/g.js',
      'main.ts -> ./beta/inner.js',
    ]);
  } finally {
    rmSync(src, { recursive: true, force: true });
  }
});

test('src/: every cross-component import goes through the component\'s index.ts', () => {
  const found = findViolations(join(repo, 'src')).map((v: { file: string; spec: string }) => `${v.file} imports ${v.spec}`);
  assert.deepEqual(found, []);
});
