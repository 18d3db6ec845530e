// Public surface of the ttrpc component: containerd's ttrpc protocol (framing, unary
// calls, google.rpc.Status errors), server and client. Only unary methods are served.
export { TtrpcServer, TtrpcConnection, type CallContext, type UnaryHandler, type TtrpcServerOptions, type RequestJournal } from './server.js';
export { TtrpcClient, socketPath, type CallOptions, type TtrpcClientOptions } from './client.js';
export { Code, codeName, RpcError, toStatus, type Status, type AnyMessage } from './status.js';
export { MAX_MESSAGE_LENGTH, HEADER_LENGTH, MessageType } from './frame.js';
