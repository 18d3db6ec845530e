// google.rpc.Status and the gRPC codes ttrpc carries. This is the one place where
// errors become wire statuses: components throw RpcError subclasses (or plain
// errors, classified below) and the server converts them here.

export const Code = {
  OK: 0,
  Canceled: 1,
  Unknown: 2,
  InvalidArgument: 3,
  DeadlineExceeded: 4,
  NotFound: 5,
  AlreadyExists: 6,
  PermissionDenied: 7,
  ResourceExhausted: 8,
  FailedPrecondition: 9,
  Aborted: 10,
  OutOfRange: 11,
  Unimplemented: 12,
  Internal: 13,
  Unavailable: 14,
  DataLoss: 15,
  Unauthenticated: 16,
} as const;
export type Code = (typeof Code)[keyof typeof Code];

const codeNames = new Map<number, string>(Object.entries(Code).map(([k, v]) => [v, k]));
export function codeName(code: number): string {
  return codeNames.get(code) ?? `Code(${code})`;
}

/** google.protobuf.Any as carried on the wire (type URL + encoded message). */
export interface AnyMessage {
  typeUrl: string;
  value: Uint8Array;
}

/** google.rpc.Status: code=1, message=2, details=3 (repeated Any). */
export interface Status {
  code: number;
  message: string;
  details: AnyMessage[];
}

/** An error that carries its own gRPC code. Throw it (or a subclass) from handlers. */
export class RpcError extends Error {
  constructor(
    readonly code: Code,
    message: string,
    readonly details: AnyMessage[] = [],
  ) {
    super(message);
    this.name = 'RpcError';
  }

  /** The error a client sees for a non-OK status. */
  static fromStatus(s: Status): RpcError {
    const e = new RpcError(s.code as Code, s.message, s.details);
    return e;
  }

  override toString(): string {
    return `${codeName(this.code)}: ${this.message}`;
  }
}

const errnoCodes: Record<string, Code> = {
  ENOENT: Code.NotFound,
  ESRCH: Code.NotFound,
  EEXIST: Code.AlreadyExists,
  EPERM: Code.PermissionDenied,
  EACCES: Code.PermissionDenied,
  EINVAL: Code.InvalidArgument,
  ENOSPC: Code.ResourceExhausted,
  EMFILE: Code.ResourceExhausted,
  ENFILE: Code.ResourceExhausted,
  ENOMEM: Code.ResourceExhausted,
  ETIMEDOUT: Code.DeadlineExceeded,
  ENOSYS: Code.Unimplemented,
  EOPNOTSUPP: Code.Unimplemented,
};

/**
 * Converts anything a handler threw into a google.rpc.Status.
 * RpcError keeps its code; Node system errors map by errno (ENOENT → NotFound, ...);
 * aborts map to Canceled/DeadlineExceeded; programming errors (TypeError, ...) are
 * Internal; anything else is Unknown, like containerd/ttrpc's own fallback.
 */
export function toStatus(err: unknown): Status {
  if (err instanceof RpcError) return { code: err.code, message: err.message, details: err.details };
  if (err instanceof Error) {
    const sys = (err as NodeJS.ErrnoException).code;
    if (typeof sys === 'string' && sys in errnoCodes) return { code: errnoCodes[sys]!, message: err.message, details: [] };
    if (err.name === 'TimeoutError') return { code: Code.DeadlineExceeded, message: err.message, details: [] };
    if (err.name === 'AbortError') return { code: Code.Canceled, message: err.message, details: [] };
    if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || err instanceof SyntaxError) {
      return { code: Code.Internal, message: err.message, details: [] };
    }
    return { code: Code.Unknown, message: err.message, details: [] };
  }
  return { code: Code.Unknown, message: String(err), details: [] };
}
