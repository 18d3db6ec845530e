// Runs the test suite: unit tests (pure logic) then integration tests (real
// containerd, runc, FUSE and namespaces; root). One node:test run, one test file at a
// time (integration tests start their own containerd instances), spec output, and a
// closing "N passed, N failed, N skipped" line.
//   node scripts/test.mjs [unit|integration] [path filter...]
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const [tier = 'all', ...filters] = process.argv.slice(2);

function find(dir) {
  let out = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(find(p));
    else if (e.endsWith('.test.ts')) out.push(p);
  }
  return out.sort();
}

const tiers = tier === 'all' ? ['unit', 'integration'] : [tier];
const files = tiers
  .flatMap((t) => find(join(root, 'test', t)))
  .filter((f) => filters.length === 0 || filters.some((x) => relative(root, f).includes(x)));
if (files.length === 0) {
  console.error(`no test files for ${tier} ${filters.join(' ')}`);
  process.exit(2);
}
if (tiers.includes('integration') && process.getuid?.() !== 0) {
  console.error('integration tests need root: they run containerd, runc, FUSE mounts and namespaces');
  process.exit(2);
}

// In a temp dir of its own: a fresh checkout has no .cache/ yet (unit tests need no setup).
const tapDir = mkdtempSync(join(tmpdir(), 'vnode-test-'));
const tap = join(tapDir, 'results.tap');
const args = ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=tap', `--test-reporter-destination=${tap}`, ...files];
const child = spawn(process.execPath, args, { cwd: root, stdio: 'inherit' });
child.on('exit', (code, signal) => {
  let text = '';
  try {
    text = readFileSync(tap, 'utf8');
  } catch {
    /* the runner died before writing */
  }
  rmSync(tapDir, { recursive: true, force: true });
  const count = (k) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  const failed = count('fail') + count('cancelled');
  console.log(`\n${count('pass')} passed, ${failed} failed, ${count('skipped')} skipped`);
  process.exit(signal ? 1 : (code ?? 1));
});
