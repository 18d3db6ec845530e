// Answers of the Task API implementation to its caller, each with a stable code
// (shim/error-status.ts gives the gRPC status). The message is the whole answer.

abstract class TaskAnswer extends Error {
  abstract readonly code: string;
}

/** No such task, or no such process in it. */
export class TaskNotFoundError extends TaskAnswer {
  override name = 'TaskNotFoundError';
  readonly code = 'VNODE_TASK_NOT_FOUND';
}

export class TaskExistsError extends TaskAnswer {
  override name = 'TaskExistsError';
  readonly code = 'VNODE_TASK_EXISTS';
}

/** The request itself is malformed or asks for something vnode does not take. */
export class BadRequestError extends TaskAnswer {
  override name = 'BadRequestError';
  readonly code = 'VNODE_BAD_REQUEST';
}

export class UnsupportedError extends TaskAnswer {
  override name = 'UnsupportedError';
  readonly code = 'VNODE_UNSUPPORTED';
}

/** The system is not in a state the call needs (the vNode is gone, no terminal, ...). */
export class PreconditionError extends TaskAnswer {
  override name = 'PreconditionError';
  readonly code = 'VNODE_PRECONDITION';
}

/** A signal for a process that has already exited (containerd's errdefs.ErrNotFound). */
export class ProcessFinishedError extends TaskAnswer {
  override name = 'ProcessFinishedError';
  readonly code = 'VNODE_PROCESS_FINISHED';
}

export class NoCgroupError extends TaskAnswer {
  override name = 'NoCgroupError';
  readonly code = 'VNODE_NO_CGROUP';
}

export class WaitCanceledError extends TaskAnswer {
  override name = 'WaitCanceledError';
  readonly code = 'VNODE_WAIT_CANCELED';
}
