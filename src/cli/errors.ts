// Errors of the vnode command line. Each carries a stable `code`; the exit code it ends
// the command with comes from one table (exitCodeFor), following kubectl and crictl:
// 1 for any failure (not found included), 2 for usage or invalid input.

export const ExitCode = { ok: 0, failed: 1, notFound: 1, usage: 2, interrupted: 130, timeout: 124 } as const;

/** The stable codes of the CLI's own errors. */
export const CliErrorCode = {
  failed: 'VNODE_FAILED',
  usage: 'VNODE_USAGE',
  manifest: 'VNODE_MANIFEST_INVALID',
  notFound: 'VNODE_NOT_FOUND',
  imageNotFound: 'VNODE_IMAGE_NOT_FOUND',
} as const;

/**
 * Error code → exit code. Codes not listed (those of other components: VNODE_CRI_*,
 * VNODE_STREAM_*, VNODE_IMAGE_*, VNODEFS_*, errno names) are general failures: 1.
 */
const EXIT_CODES: Readonly<Record<string, number>> = {
  [CliErrorCode.failed]: ExitCode.failed,
  [CliErrorCode.usage]: ExitCode.usage,
  [CliErrorCode.manifest]: ExitCode.usage,
  [CliErrorCode.notFound]: ExitCode.notFound,
  [CliErrorCode.imageNotFound]: ExitCode.notFound,
};

/** The exit code for an error's `code` (1 when it has none or an unlisted one). */
export function exitCodeFor(code: unknown): number {
  return typeof code === 'string' ? (EXIT_CODES[code] ?? ExitCode.failed) : ExitCode.failed;
}

/** True for errors vnode raises on purpose (code VNODE_… or VNODEFS_…): their message says it all, no stack. */
export function isVnodeError(err: unknown): err is Error & { code: string } {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === 'string' && code.startsWith('VNODE');
}

export class CliError extends Error {
  override name = 'CliError';
  constructor(message: string, readonly code: string = CliErrorCode.failed) {
    super(message);
  }

  get exitCode(): number {
    return exitCodeFor(this.code);
  }
}

/** Bad flags or arguments, or an invalid manifest: exit 2. */
export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string, code: string = CliErrorCode.usage) {
    super(message, code);
  }
}

export class NotFoundError extends CliError {
  override name = 'NotFoundError';
  constructor(message: string, code: string = CliErrorCode.notFound) {
    super(message, code);
  }
}
