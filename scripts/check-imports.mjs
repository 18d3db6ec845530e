// Component boundaries: every folder directly below src/ is a component whose public
// surface is its index.ts (STYLE.md); a folder without one (k8s/) only groups
// components (k8s/cri/). A file may import anything inside its own component, but from
// another component only that component's index.ts. The multi-call entry (src/main.ts)
// alone may load a component's main.ts: each binary's entry point, loaded lazily.
// Type-only imports count too: they couple the code just the same.
//
//   node scripts/check-imports.mjs [srcDir]    prints each violation, exits 1 if any
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir) {
  const out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...sourceFiles(p));
    else if (/\.(ts|mts)$/.test(e) && !e.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/** The component of a path below src/: its folder ('' for files directly in src/). */
function componentOf(srcDir, file) {
  const rel = relative(srcDir, file).split(sep);
  if (rel.length === 1) return '';
  const grouped = rel.length > 2 && !existsSync(join(srcDir, rel[0], 'index.ts'));
  return grouped ? `${rel[0]}/${rel[1]}` : rel[0];
}

/** Relative specifiers of one file's imports, exports-from and dynamic imports. */
export function importsOf(text) {
  const specs = [];
  for (const m of text.matchAll(IMPORT_RE)) specs.push(m[1] ?? m[2]);
  return specs.filter((s) => s.startsWith('.'));
}

/** Every import that reaches into another component's internals. */
export function findViolations(srcDir) {
  srcDir = resolve(srcDir);
  const violations = [];
  for (const file of sourceFiles(srcDir)) {
    const from = componentOf(srcDir, file);
    for (const spec of importsOf(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), spec).replace(/\.js$/, '.ts');
      const to = componentOf(srcDir, target);
      if (to === from || to === '') continue;
      if (target === join(srcDir, to, 'index.ts')) continue;
      if (from === '' && target === join(srcDir, to, 'main.ts')) continue;
      violations.push({ file: relative(srcDir, file), spec, from: from || '(entry)', to });
    }
  }
  return violations;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const srcDir = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'src');
  const v = findViolations(srcDir);
  for (const x of v) console.log(`${x.file}: imports '${x.spec}' (internal to ${x.to}; import from ${x.to}/index.ts)`);
  const byPair = new Map();
  for (const x of v) byPair.set(`${x.from} -> ${x.to}`, (byPair.get(`${x.from} -> ${x.to}`) ?? 0) + 1);
  for (const [k, n] of [...byPair].sort()) console.log(`  ${k}: ${n}`);
  console.log(v.length === 0 ? 'imports: every cross-component import goes through an index.ts' : `imports: ${v.length} violation(s)`);
  process.exitCode = v.length === 0 ? 0 : 1;
}
