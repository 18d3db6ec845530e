// Public surface of the CRI client: gRPC client, message types, streaming exec/attach.
export { CriClient, CriError, encodeCri, type CriClientOptions } from './client.js';
// The generated runtime.v1 codecs and grpc-js service definitions (proto/k8s/cri/v1/api.proto).
export * as CriProto from './gen/k8s/cri/v1/api.js';
export * from './types.js';
export { openStream, runStream, exitCodeFromStatus, Channel, StreamError, STREAM_PROTOCOLS, type StreamOptions, type StreamResult, type StreamSession } from './remotecommand.js';
export { runtimeHandlerNames } from './handlers.js';
