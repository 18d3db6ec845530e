// deploy/kubernetes as `kubectl kustomize` renders it, with Debian's kubectl 1.36
// (.cache/kubectl, from scripts/setup-host.sh).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { repoRoot } from './paths.js';

export const KUBECTL = join(repoRoot, '.cache', 'kubectl', 'usr', 'bin', 'kubectl');

/** The rendered objects of deploy/kubernetes. */
export function renderDeploy(): Record<string, any>[] {
  assert.ok(existsSync(KUBECTL), `${KUBECTL} is missing: run scripts/setup-host.sh (kubectl 1.36 from Debian sid)`);
  const out = execFileSync(KUBECTL, ['kustomize', join(repoRoot, 'deploy', 'kubernetes')], { encoding: 'utf8' });
  return parseAllDocuments(out).map((d) => d.toJS() as Record<string, any>);
}

