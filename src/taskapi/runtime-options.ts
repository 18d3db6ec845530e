// BinaryName of the runtime's "options" table in containerd's config, as the Task API
// carries it (CreateTaskRequest.options; the shim's features read it too). The table
// arrives in one of two types, by how the `vnode` runtime is declared:
//   io.containerd.runc.v2 + runtime_path: containerd.runc.v1.Options (BinaryName decoded);
//   io.containerd.vnode.v2: runtimeoptions.v1.Options, with the table as TOML in
//     config_body (containerd 2.x) or in the file config_path names; containerd 1.x
//     sends neither for a plain table, so there BinaryName needs VNODE_RUNTIME.
// SystemdCgroup needs nothing here: containerd picks the cgroupsPath form from the pod's
// cgroup parent (a ".slice" gives "slice:cri-containerd:id"), which the planner and
// systemd-scope.ts handle (the runtime itself always runs with the cgroupfs driver:
// cgroup/systemd-unit.ts says why).
import { readFileSync } from 'node:fs';
import { parse as parseToml } from 'smol-toml';
import { anyTypeName, GENERIC_RUNTIME_OPTIONS, RUNC_OPTIONS, unpackAny, type Any, type GenericRuntimeOptions, type RuncOptions } from '../proto/index.js';

/** The options cannot be read; `code` makes it an InvalidArgument answer. */
export class RuntimeOptionsError extends Error {
  override name = 'RuntimeOptionsError';
  readonly code = 'VNODE_BAD_REQUEST';
}

/** The runtime binary the options name (BinaryName), if any. */
export function runtimeOptionsBinaryName(options: Any | undefined): string | undefined {
  if (!options || options.value.length === 0) return undefined;
  const type = anyTypeName(options);
  if (type === RUNC_OPTIONS) return unpackAny<RuncOptions>(options).binaryName || undefined;
  if (type === GENERIC_RUNTIME_OPTIONS) return binaryNameOfTable(unpackAny<GenericRuntimeOptions>(options));
  throw new RuntimeOptionsError(`unknown runtime options type "${options.typeUrl}": the vnode runtime takes containerd.runc.v1.Options or runtimeoptions.v1.Options (the runtime's "options" table in containerd's config)`);
}

/** BinaryName of the options table that runtimeoptions.v1 carries (inline, or in the file it names). */
export function binaryNameOfTable(o: GenericRuntimeOptions): string | undefined {
  let text: string;
  let where: string;
  if (o.configPath) {
    where = `options file ${o.configPath} (ConfigPath)`;
    try {
      text = readFileSync(o.configPath, 'utf8');
    } catch (e) {
      throw new RuntimeOptionsError(`cannot read the vnode runtime's ${where}: ${(e as Error).message}`);
    }
  } else {
    where = 'runtime "options" table';
    text = Buffer.from(o.configBody ?? new Uint8Array()).toString('utf8');
  }
  if (text.trim() === '') return undefined;
  let table: Record<string, unknown>;
  try {
    table = parseToml(text) as Record<string, unknown>;
  } catch (e) {
    throw new RuntimeOptionsError(`the vnode runtime's ${where} is not valid TOML: ${(e as Error).message}`);
  }
  const name = table['BinaryName'];
  if (name === undefined || name === '') return undefined;
  if (typeof name !== 'string') throw new RuntimeOptionsError(`BinaryName in the vnode runtime's ${where} must be a string (a runtime path or name, e.g. "crun")`);
  return name;
}
