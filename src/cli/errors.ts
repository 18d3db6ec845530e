// Errors of the vnode command line, each with the exit code it ends the command with
// (kubectl/crictl conventions: 1 = failed or not found, 2 = usage or invalid input).

export const ExitCode = { ok: 0, failed: 1, notFound: 1, usage: 2, interrupted: 130, timeout: 124 } as const;

export class CliError extends Error {
  override name = 'CliError';
  constructor(message: string, readonly exitCode: number = ExitCode.failed) {
    super(message);
  }
}

/** Bad flags or arguments, or an invalid manifest: exit 2. */
export class UsageError extends CliError {
  override name = 'UsageError';
  constructor(message: string) {
    super(message, ExitCode.usage);
  }
}

export class NotFoundError extends CliError {
  override name = 'NotFoundError';
  constructor(message: string) {
    super(message, ExitCode.notFound);
  }
}
