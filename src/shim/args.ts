// Command line of containerd-shim-*-v2 as containerd 1.6/1.7/2.x build it
// (pkg/shim Command): Go flag syntax, then the action.
//
//   -namespace NS -address GRPC -publish-binary BIN -id ID [-bundle DIR] [-debug] start|delete
//
// Environment: TTRPC_ADDRESS (all versions), GRPC_ADDRESS and NAMESPACE (1.7+),
// MAX_SHIM_VERSION (2.x). The working directory is the bundle on `start`.

export interface ShimArgs {
  namespace: string;
  address: string;
  ttrpcAddress: string;
  publishBinary: string;
  id: string;
  bundle: string;
  debug: boolean;
  version: boolean;
  /** `-info`: print containerd.types.RuntimeInfo and exit (2.x introspection). */
  info: boolean;
  action: string;
  maxShimVersion: number;
}

const BOOLEAN = new Set(['debug', 'v', 'version', 'info']);

export class UsageError extends Error {
  override name = 'UsageError';
  readonly code = 'VNODE_SHIM_USAGE';
}

export function parseArgs(argv: string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): ShimArgs {
  const flags = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (positional.length > 0 || !a.startsWith('-') || a === '-') {
      positional.push(a);
      continue;
    }
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    const body = a.replace(/^--?/, '');
    const eq = body.indexOf('=');
    if (eq >= 0) {
      flags.set(body.slice(0, eq), body.slice(eq + 1));
    } else if (BOOLEAN.has(body)) {
      flags.set(body, 'true');
    } else {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`flag needs an argument: -${body}`);
      flags.set(body, v);
    }
  }
  const address = flags.get('address') ?? env.GRPC_ADDRESS ?? '';
  const bool = (k: string) => flags.has(k) && flags.get(k) !== 'false';
  return {
    namespace: flags.get('namespace') ?? env.NAMESPACE ?? '',
    address,
    ttrpcAddress: env.TTRPC_ADDRESS || (address ? `${address}.ttrpc` : ''),
    publishBinary: flags.get('publish-binary') ?? '',
    id: flags.get('id') ?? '',
    bundle: flags.get('bundle') ?? cwd,
    debug: bool('debug'),
    version: bool('v') || bool('version'),
    info: bool('info'),
    action: positional[0] ?? '',
    maxShimVersion: Number(env.MAX_SHIM_VERSION ?? 0) || 0,
  };
}
