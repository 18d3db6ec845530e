// Public surface of the CRI client: gRPC client, message types, streaming exec/attach.
export { CriClient, CriError, type CriClientOptions } from './client.js';
export { CRI_PROTO } from './proto.js';
export * from './types.js';
export { openStream, runStream, exitCodeFromStatus, Channel, StreamError, STREAM_PROTOCOLS, type StreamOptions, type StreamResult, type StreamSession } from './remotecommand.js';
