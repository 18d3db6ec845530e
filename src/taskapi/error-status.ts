// The one table from vnode's error codes to gRPC status codes, applied where a Task API
// call returns (serveTaskApi). Components throw their own error classes, each with a
// stable `code` string; none of them chooses a gRPC code. containerd turns the gRPC
// code into its errdefs (NotFound → ErrNotFound, FailedPrecondition, ...), so a code's
// row here is part of the contract with containerd and CRI.
import { Code, RpcError } from '../ttrpc/index.js';

interface Row {
  status: Code;
  /**
   * The message is prefixed with the call ("create c1: ...") when the error comes from
   * a component that does not know which call it serves; answers the Task API
   * implementation words for its caller go out as they are.
   */
  inContext: boolean;
}

const failure = (status: Code): Row => ({ status, inContext: true });
const answer = (status: Code): Row => ({ status, inContext: false });

export const ERROR_STATUS: Readonly<Record<string, Row>> = {
  // oci
  VNODE_INVALID_SPEC: failure(Code.InvalidArgument),
  VNODE_IMAGE_PREREQUISITE_MISSING: failure(Code.FailedPrecondition),
  VNODE_IMAGE_IMPORT_FAILED: failure(Code.FailedPrecondition),
  // manager: resources and host steps
  VNODE_ID_POOL_EXHAUSTED: failure(Code.ResourceExhausted),
  VNODE_ID_POOL_CONFIG: failure(Code.Internal),
  VNODE_HELPER_MISSING: failure(Code.Internal),
  VNODE_STDIO_FAILED: failure(Code.FailedPrecondition),
  VNODE_ROOTFS_FAILED: failure(Code.FailedPrecondition),
  VNODE_VNODE_FAILED: failure(Code.FailedPrecondition),
  // manager: the OCI runtime
  VNODE_RUNTIME_MISSING: failure(Code.FailedPrecondition),
  VNODE_RUNTIME_FAILED: failure(Code.Unknown),
  VNODE_RUNTIME_NOT_FOUND: failure(Code.Unknown),
  VNODE_RUNTIME_NOT_RUNNING: failure(Code.Unknown),
  VNODE_RUNTIME_ALREADY_FINISHED: failure(Code.Unknown),
  // manager: answers to the call itself
  VNODE_TASK_NOT_FOUND: answer(Code.NotFound),
  VNODE_TASK_EXISTS: answer(Code.AlreadyExists),
  VNODE_BAD_REQUEST: answer(Code.InvalidArgument),
  VNODE_UNSUPPORTED: answer(Code.Unimplemented),
  VNODE_PRECONDITION: answer(Code.FailedPrecondition),
  VNODE_ILLEGAL_TRANSITION: answer(Code.FailedPrecondition),
  VNODE_PROCESS_FINISHED: answer(Code.NotFound),
  VNODE_NO_CGROUP: answer(Code.NotFound),
  VNODE_WAIT_CANCELED: answer(Code.Canceled),
  // net: a sandbox's network (docs/networking.md)
  VNODE_NET_NO_VNODE_CNI: failure(Code.FailedPrecondition),
  VNODE_NET_HOST_NETWORK_REFUSED: failure(Code.FailedPrecondition),
  VNODE_NET_CNI_CONFIG: failure(Code.FailedPrecondition),
  VNODE_NET_CNI_PLUGIN: failure(Code.FailedPrecondition),
  VNODE_NET_NOT_NETNS: failure(Code.FailedPrecondition),
  VNODE_NET_NO_LINKS: failure(Code.FailedPrecondition),
  VNODE_NET_CAPTURE: failure(Code.Internal),
  VNODE_NET_MOVE: failure(Code.Internal),
  VNODE_NET_MOUNT: failure(Code.Internal),
  VNODE_NET_RECORD: failure(Code.Internal),
  // shim, ttrpc
  VNODE_SHIM_USAGE: failure(Code.InvalidArgument),
  VNODE_TTRPC_OVERSIZED: failure(Code.ResourceExhausted),
};

/** The stable code of an error, if it has one of the table's. */
export function vnodeCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && Object.hasOwn(ERROR_STATUS, code) ? code : undefined;
}

/**
 * What a Task API call answers for `err`: an RpcError as it is, a coded error by its
 * row, anything else unchanged (the ttrpc layer classifies it: errno, programming
 * error, unknown). `call` names the call for component failures ("start exec1").
 */
export function taskErrorOf(err: unknown, call: string): unknown {
  if (err instanceof RpcError) return err;
  const code = vnodeCodeOf(err);
  if (!code) return err;
  const row = ERROR_STATUS[code]!;
  const message = (err as Error).message;
  return new RpcError(row.status, row.inContext ? `${call}: ${message}` : message);
}
