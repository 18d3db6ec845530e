// A CRI client (runtime.v1 RuntimeService + ImageService) over gRPC on a unix socket: the
// calls kubelet makes, for `vnode run` and the integration tests.
import * as grpc from '@grpc/grpc-js';
import * as cri from './gen/k8s/cri/v1/api.js';
import type {
  AttachRequest, AuthConfig, Container, ContainerConfig, ContainerFilter, ContainerStats, ContainerStatusResponse,
  ExecRequest, ExecSyncResponse, Image, ImageSpec, Labels, LinuxContainerResources, PodSandbox, PodSandboxConfig,
  PodSandboxFilter, PodSandboxStatusResponse, StatusResponse, VersionResponse,
} from './types.js';

/**
 * An RPC that failed: `grpcCode` is the gRPC status code, `details` what the runtime
 * said; `code` is the stable string "VNODE_CRI_<gRPC status name>" (VNODE_CRI_NOT_FOUND).
 */
export class CriError extends Error {
  readonly code: string;
  readonly grpcCode: grpc.status;
  readonly details: string;
  readonly method: string;
  constructor(method: string, grpcCode: grpc.status, details: string) {
    super(`CRI ${method}: ${details} (${grpc.status[grpcCode] ?? grpcCode})`);
    this.name = 'CriError';
    this.method = method;
    this.grpcCode = grpcCode;
    this.code = `VNODE_CRI_${grpc.status[grpcCode] ?? 'UNKNOWN'}`;
    this.details = details;
  }
}

/** One unary RPC of the generated grpc-js service definitions. */
interface MethodDefinition {
  path: string;
  requestSerialize(value: unknown): Buffer;
  responseDeserialize(bytes: Buffer): unknown;
}
interface RequestCodec {
  fromJSON(object: unknown): unknown;
}

const SERVICES = { runtime: cri.RuntimeServiceService, image: cri.ImageServiceService } as const;
const SERVICE_NAMES = { runtime: 'runtime.v1.RuntimeService', image: 'runtime.v1.ImageService' } as const;

interface MessageCodec extends RequestCodec {
  encode(message: unknown): { finish(): Uint8Array };
}

/**
 * A request in its input form (CriInput) as the generated message: the generated fromJSON
 * fills the defaults in and takes int64 and enums as numbers or strings; proto3 JSON
 * carries bytes as base64, so Buffers are turned into base64 first.
 */
function toMessage(codec: RequestCodec, input: object): unknown {
  return codec.fromJSON(bytesToBase64(input));
}
function bytesToBase64(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return v.map(bytesToBase64);
  if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, bytesToBase64(x)]));
  return v;
}

/** The wire bytes of a runtime.v1 message (e.g. "PortMapping") given in its input form. */
export function encodeCri(typeName: string, input: object): Uint8Array {
  const codec = (cri as unknown as Record<string, MessageCodec | undefined>)[typeName];
  if (typeof codec?.encode !== 'function' || typeof codec.fromJSON !== 'function') throw new Error(`CRI: no message runtime.v1.${typeName}`);
  return codec.encode(toMessage(codec, input)).finish();
}

/** The method and its request codec (CRI names every request `<Method>Request`), or undefined. */
function lookup(service: keyof typeof SERVICES, method: string): { def: MethodDefinition; request: RequestCodec } | undefined {
  const path = `/${SERVICE_NAMES[service]}/${method}`;
  const def = Object.values(SERVICES[service] as Record<string, MethodDefinition>).find((d) => d.path === path);
  const request = (cri as unknown as Record<string, RequestCodec | undefined>)[`${method}Request`];
  return def && typeof request?.fromJSON === 'function' ? { def, request } : undefined;
}

export interface CriClientOptions {
  /** Deadline of each call, ms (default 120 s; RunPodSandbox on a loaded machine can take a while). */
  timeoutMs?: number;
}

/** `address`: a unix socket path (/run/containerd/containerd.sock) or a unix:// URL. */
export class CriClient {
  readonly address: string;
  private readonly client: grpc.Client;
  private readonly timeoutMs: number;

  constructor(address: string, opts: CriClientOptions = {}) {
    this.address = address;
    this.timeoutMs = opts.timeoutMs ?? 120_000;
    const target = address.startsWith('unix:') ? address : `unix://${address}`;
    const channelOpts: grpc.ChannelOptions = {
      'grpc.max_receive_message_length': 64 << 20,
      'grpc.max_send_message_length': 64 << 20,
    };
    this.client = new grpc.Client(target, grpc.credentials.createInsecure(), channelOpts);
  }

  /** Connects and waits until the runtime answers Version (polling until timeoutMs). */
  static async connect(address: string, opts: CriClientOptions & { waitMs?: number } = {}): Promise<CriClient> {
    const client = new CriClient(address, opts);
    const deadline = Date.now() + (opts.waitMs ?? 30_000);
    for (;;) {
      try {
        await client.call('runtime', 'Version', { version: 'v1' }, 2_000);
        return client;
      } catch (err) {
        if (Date.now() > deadline) { client.close(); throw err; }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  close(): void {
    this.client.close();
  }

  /** Any RuntimeService/ImageService method by its proto name, for fields this class does not wrap. */
  call<T = unknown>(service: 'runtime' | 'image', method: string, request: object, timeoutMs = this.timeoutMs): Promise<T> {
    const m = lookup(service, method);
    if (!m) return Promise.reject(new Error(`CRI: no method ${method} in the ${service} service`));
    const message = toMessage(m.request, request);
    return new Promise<T>((resolve, reject) => {
      this.client.makeUnaryRequest(
        m.def.path,
        (v: unknown) => m.def.requestSerialize(v),
        (b: Buffer) => m.def.responseDeserialize(b),
        message,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (err, res) => {
          if (err) reject(new CriError(method, err.code, err.details || err.message));
          else resolve(res as T);
        },
      );
    });
  }

  // ---- runtime ------------------------------------------------------------------------------
  version(): Promise<VersionResponse> {
    return this.call('runtime', 'Version', { version: 'v1' });
  }
  status(verbose = false): Promise<StatusResponse> {
    return this.call('runtime', 'Status', { verbose });
  }
  async runPodSandbox(config: PodSandboxConfig, runtimeHandler = ''): Promise<string> {
    const res = await this.call<{ pod_sandbox_id: string }>('runtime', 'RunPodSandbox', { config, runtime_handler: runtimeHandler });
    return res.pod_sandbox_id;
  }
  async stopPodSandbox(podSandboxId: string): Promise<void> {
    await this.call('runtime', 'StopPodSandbox', { pod_sandbox_id: podSandboxId });
  }
  async removePodSandbox(podSandboxId: string): Promise<void> {
    await this.call('runtime', 'RemovePodSandbox', { pod_sandbox_id: podSandboxId });
  }
  podSandboxStatus(podSandboxId: string, verbose = false): Promise<PodSandboxStatusResponse> {
    return this.call('runtime', 'PodSandboxStatus', { pod_sandbox_id: podSandboxId, verbose });
  }
  async listPodSandbox(filter?: PodSandboxFilter): Promise<PodSandbox[]> {
    const res = await this.call<{ items: PodSandbox[] }>('runtime', 'ListPodSandbox', filter ? { filter } : {});
    return res.items;
  }
  async createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig): Promise<string> {
    const res = await this.call<{ container_id: string }>('runtime', 'CreateContainer', {
      pod_sandbox_id: podSandboxId, config, sandbox_config: sandboxConfig,
    });
    return res.container_id;
  }
  async startContainer(containerId: string): Promise<void> {
    await this.call('runtime', 'StartContainer', { container_id: containerId });
  }
  /** timeoutSec: grace period before SIGKILL (the call's own deadline is extended by it). */
  async stopContainer(containerId: string, timeoutSec = 0): Promise<void> {
    await this.call('runtime', 'StopContainer', { container_id: containerId, timeout: timeoutSec }, this.timeoutMs + timeoutSec * 1000);
  }
  async removeContainer(containerId: string): Promise<void> {
    await this.call('runtime', 'RemoveContainer', { container_id: containerId });
  }
  async listContainers(filter?: ContainerFilter): Promise<Container[]> {
    const res = await this.call<{ containers: Container[] }>('runtime', 'ListContainers', filter ? { filter } : {});
    return res.containers;
  }
  containerStatus(containerId: string, verbose = false): Promise<ContainerStatusResponse> {
    return this.call('runtime', 'ContainerStatus', { container_id: containerId, verbose });
  }
  async updateContainerResources(containerId: string, linux: LinuxContainerResources, annotations?: Labels): Promise<void> {
    await this.call('runtime', 'UpdateContainerResources', { container_id: containerId, linux, annotations: annotations ?? {} });
  }
  /** timeoutSec 0 = no timeout on the runtime side. */
  execSync(containerId: string, cmd: string[], timeoutSec = 0): Promise<ExecSyncResponse> {
    const deadline = timeoutSec > 0 ? timeoutSec * 1000 + 10_000 : this.timeoutMs;
    return this.call('runtime', 'ExecSync', { container_id: containerId, cmd, timeout: timeoutSec }, deadline);
  }
  /** Returns the streaming URL (see remotecommand.ts). */
  async exec(req: ExecRequest): Promise<string> {
    const res = await this.call<{ url: string }>('runtime', 'Exec', req);
    return res.url;
  }
  async attach(req: AttachRequest): Promise<string> {
    const res = await this.call<{ url: string }>('runtime', 'Attach', req);
    return res.url;
  }
  async containerStats(containerId: string): Promise<ContainerStats> {
    const res = await this.call<{ stats: ContainerStats }>('runtime', 'ContainerStats', { container_id: containerId });
    return res.stats;
  }

  // ---- images -------------------------------------------------------------------------------
  async listImages(filter?: ImageSpec): Promise<Image[]> {
    const res = await this.call<{ images: Image[] }>('image', 'ListImages', filter ? { filter: { image: filter } } : {});
    return res.images;
  }
  /** null when the image is not present. */
  async imageStatus(image: string | ImageSpec, verbose = false): Promise<{ image: Image | null; info: Labels }> {
    const spec = typeof image === 'string' ? { image } : image;
    return this.call('image', 'ImageStatus', { image: spec, verbose });
  }
  async pullImage(image: string | ImageSpec, sandboxConfig?: PodSandboxConfig, auth?: AuthConfig): Promise<string> {
    const spec = typeof image === 'string' ? { image } : image;
    const res = await this.call<{ image_ref: string }>('image', 'PullImage', { image: spec, auth, sandbox_config: sandboxConfig });
    return res.image_ref;
  }
}
