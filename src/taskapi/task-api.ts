// The Task API as a TypeScript interface (one async method per RPC of
// containerd.task.v2.Task), the error type implementations throw, and the glue that
// serves an implementation over ttrpc. Decoding, encoding and the conversion of
// errors (by their stable codes, error-status.ts) happen here and nowhere else.
import {
  decode,
  encode,
  messageName,
  TASK_SERVICE,
  TaskDefinition,
  type CheckpointTaskRequest,
  type CloseIORequest,
  type ConnectRequest,
  type ConnectResponse,
  type CreateTaskRequest,
  type CreateTaskResponse,
  type DeleteRequest,
  type DeleteResponse,
  type ExecProcessRequest,
  type KillRequest,
  type PauseRequest,
  type PidsRequest,
  type PidsResponse,
  type ResizePtyRequest,
  type ResumeRequest,
  type ShutdownRequest,
  type StartRequest,
  type StartResponse,
  type StateRequest,
  type StateResponse,
  type StatsRequest,
  type StatsResponse,
  type UpdateTaskRequest,
  type WaitRequest,
  type WaitResponse,
} from '../proto/index.js';
import { taskErrorOf, vnodeCodeOf } from './error-status.js';
import { taskApiCalls, type TaskApiCall } from './diagnostics.js';
import { Code, RpcError, type CallContext, type TtrpcClient, type TtrpcServer, type UnaryHandler } from '../ttrpc/index.js';

/** ttrpc metadata key carrying the containerd namespace of a call. */
export const NAMESPACE_HEADER = 'containerd-namespace-ttrpc';

/** What a Task API method learns about its call. */
export interface TaskContext {
  /** containerd namespace of the call ("" if containerd sent none). */
  namespace: string;
  /** Aborted on the request's timeout or when containerd's connection closes. */
  signal: AbortSignal;
  /** The ttrpc call (connection, raw metadata). */
  call: CallContext;
}

/**
 * A Task API failure with a gRPC code; containerd maps the code to its errdefs
 * (NotFound → ErrNotFound, AlreadyExists, FailedPrecondition, InvalidArgument,
 * Unimplemented → ErrNotImplemented, ...). The message reaches CRI users: say what and why.
 */
export class TaskError extends RpcError {
  constructor(code: Code, message: string) {
    super(code, message);
    this.name = 'TaskError';
  }
}

/** containerd.task.v2.Task. Methods that return google.protobuf.Empty resolve to void. */
export interface TaskApi {
  state(req: StateRequest, ctx: TaskContext): Promise<StateResponse>;
  create(req: CreateTaskRequest, ctx: TaskContext): Promise<CreateTaskResponse>;
  start(req: StartRequest, ctx: TaskContext): Promise<StartResponse>;
  delete(req: DeleteRequest, ctx: TaskContext): Promise<DeleteResponse>;
  pids(req: PidsRequest, ctx: TaskContext): Promise<PidsResponse>;
  pause(req: PauseRequest, ctx: TaskContext): Promise<void>;
  resume(req: ResumeRequest, ctx: TaskContext): Promise<void>;
  checkpoint(req: CheckpointTaskRequest, ctx: TaskContext): Promise<void>;
  kill(req: KillRequest, ctx: TaskContext): Promise<void>;
  exec(req: ExecProcessRequest, ctx: TaskContext): Promise<void>;
  resizePty(req: ResizePtyRequest, ctx: TaskContext): Promise<void>;
  closeIO(req: CloseIORequest, ctx: TaskContext): Promise<void>;
  update(req: UpdateTaskRequest, ctx: TaskContext): Promise<void>;
  wait(req: WaitRequest, ctx: TaskContext): Promise<WaitResponse>;
  stats(req: StatsRequest, ctx: TaskContext): Promise<StatsResponse>;
  connect(req: ConnectRequest, ctx: TaskContext): Promise<ConnectResponse>;
  shutdown(req: ShutdownRequest, ctx: TaskContext): Promise<void>;
}

type TaskMethods = typeof TaskDefinition.methods;
/** An RPC of containerd.task.v2.Task by the name containerd calls it, e.g. "State". */
export type TaskRpc = TaskMethods[keyof TaskMethods]['name'];

// TaskApi has one method per RPC of the generated definition (whose keys are the RPC
// names with a lower-case first letter): this fails to compile when they part.
type SameKeys<A, B> = [keyof A] extends [keyof B] ? ([keyof B] extends [keyof A] ? true : false) : false;
const taskApiCoversShimProto: SameKeys<TaskApi, TaskMethods> = true;
void taskApiCoversShimProto;

/** RPC name → TaskApi method and the full names of its request and response (null = google.protobuf.Empty). */
const RPCS = new Map<TaskRpc, { method: keyof TaskApi; request: string; response: string | null }>(
  (Object.entries(TaskDefinition.methods) as [keyof TaskApi, TaskMethods[keyof TaskMethods]][]).map(([method, def]) => {
    const response = messageName(def.responseType)!;
    return [def.name, { method, request: messageName(def.requestType)!, response: response === 'google.protobuf.Empty' ? null : response }];
  }),
);

export const TASK_RPCS: TaskRpc[] = [...RPCS.keys()];

const EMPTY = new Uint8Array(0);

/** The namespace containerd put in the call's metadata. */
export function namespaceOf(call: CallContext): string {
  return call.metadata.get(NAMESPACE_HEADER)?.[0] ?? '';
}

function publishCall(verb: string, started: bigint, code: string): void {
  const call: TaskApiCall = { verb, seconds: Number(process.hrtime.bigint() - started) / 1e9, code };
  taskApiCalls.publish(call);
}

/**
 * The same service under containerd 2.x's name for shim protocol 3: its messages are
 * task v2's, only the proto package differs (api/runtime/task/v3/shim.proto). containerd
 * 2.x calls it when `start` answered version 3 (src/shim/bootstrap.ts).
 */
export const TASK_SERVICE_V3 = 'containerd.task.v3.Task';
export { TASK_SERVICE };

/** Registers `impl` on `server` as containerd.task.v2.Task and containerd.task.v3.Task. */
export function serveTaskApi(server: TtrpcServer, impl: TaskApi): void {
  const methods: Record<string, UnaryHandler> = {};
  for (const [rpc, { method: name, request: reqType, response: respType }] of RPCS) {
    methods[rpc] = async (payload, call) => {
      let req: unknown;
      try {
        req = decode(reqType, payload);
      } catch (err) {
        throw new TaskError(Code.InvalidArgument, `${rpc}: cannot decode ${reqType.slice(reqType.lastIndexOf('.') + 1)}: ${(err as Error).message}`);
      }
      const ctx: TaskContext = { namespace: namespaceOf(call), signal: call.signal, call };
      const fn = impl[name] as (r: unknown, c: TaskContext) => Promise<object | void>;
      let resp: object | void;
      const started = taskApiCalls.hasSubscribers ? process.hrtime.bigint() : 0n;
      try {
        resp = await fn.call(impl, req, ctx);
      } catch (err) {
        if (started) publishCall(name, started, vnodeCodeOf(err) ?? 'UNCODED');
        // the one conversion of coded errors, for every verb alike
        const r = req as { id?: string; execId?: string };
        throw taskErrorOf(err, `${name} ${r.execId || r.id || ''}`.trimEnd());
      }
      if (started) publishCall(name, started, '');
      if (respType === null) return EMPTY;
      if (resp === undefined || resp === null) throw new TaskError(Code.Internal, `${rpc}: implementation returned no ${respType.slice(respType.lastIndexOf('.') + 1)}`);
      return encode(respType, resp);
    };
  }
  server.register(TASK_SERVICE, methods);
  server.register(TASK_SERVICE_V3, methods);
}

/** Client side of the Task API (tests, tools): same methods as TaskApi, without the context. */
export type TaskClient = {
  [K in keyof TaskApi]: (req: Parameters<TaskApi[K]>[0], opts?: { timeoutMs?: number }) => ReturnType<TaskApi[K]>;
};

/** A TaskClient over a ttrpc client; `namespace` goes into every call's metadata; `service`: the v2 name, or TASK_SERVICE_V3. */
export function taskClient(client: TtrpcClient, namespace: string, service: string = TASK_SERVICE): TaskClient {
  const out: Record<string, unknown> = {};
  for (const [rpc, { method: name, request: reqType, response: respType }] of RPCS) {
    out[name] = async (req: object, opts: { timeoutMs?: number } = {}) => {
      const payload = await client.call(service, rpc, encode(reqType, req), {
        metadata: [{ key: NAMESPACE_HEADER, value: namespace }],
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      });
      return respType === null ? undefined : decode(respType, payload);
    };
  }
  return out as TaskClient;
}
