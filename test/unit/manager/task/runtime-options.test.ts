// The runtime's "options" table in both types containerd sends: runc's (BinaryName decoded)
// and the generic runtimeoptions.v1 (TOML inline from containerd 2.x, or in a file).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runtimeBinaryFor } from '../../../../src/manager/task/runtime-options.js';
import { binaryNameOfTable } from '../../../../src/taskapi/index.js';
import { GENERIC_RUNTIME_OPTIONS, packAny, RUNC_OPTIONS } from '../../../../src/proto/index.js';

const body = (s: string) => ({ typeUrl: '', configPath: '', configBody: Buffer.from(s) });

test('the generic options carry the table as TOML: BinaryName is read, SystemdCgroup and other keys are accepted', () => {
  assert.equal(binaryNameOfTable(body('SystemdCgroup = true\n')), undefined);
  assert.equal(binaryNameOfTable(body('BinaryName = "/usr/local/bin/crun"\nSystemdCgroup = true\n')), '/usr/local/bin/crun');
  assert.equal(binaryNameOfTable(body('')), undefined);
});

test('a ConfigPath file is read instead of the body; an unreadable one or bad TOML is a clear error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vnode-rtopts-'));
  try {
    const f = join(dir, 'vnode.toml');
    writeFileSync(f, 'BinaryName = "crun"\n');
    assert.equal(binaryNameOfTable({ typeUrl: '', configPath: f, configBody: new Uint8Array() }), 'crun');
    assert.throws(() => binaryNameOfTable({ typeUrl: '', configPath: join(dir, 'missing.toml'), configBody: new Uint8Array() }), /cannot read the vnode runtime's options file .*missing\.toml \(ConfigPath\)/);
    assert.throws(() => binaryNameOfTable(body('BinaryName = ')), /runtime "options" table is not valid TOML/);
    assert.throws(() => binaryNameOfTable(body('BinaryName = 3')), /BinaryName .* must be a string/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('both option types resolve to a runtime binary; another type is refused with the types it takes', () => {
  const generic = packAny(GENERIC_RUNTIME_OPTIONS, { configBody: Buffer.from('SystemdCgroup = true\n') });
  assert.match(runtimeBinaryFor(generic), /\/(runc|crun)$/);
  const runc = packAny(RUNC_OPTIONS, { systemdCgroup: true });
  assert.match(runtimeBinaryFor(runc), /\/(runc|crun)$/);
  assert.throws(() => runtimeBinaryFor({ typeUrl: 'containerd.runhcs.v1.Options', value: new Uint8Array([10, 1, 65]) }), /unknown runtime options type .*takes containerd\.runc\.v1\.Options or runtimeoptions\.v1\.Options/);
});
