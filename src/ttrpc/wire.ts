// The ttrpc envelope messages (proto/ttrpc/request.proto, google.rpc.Status from
// proto/google/rpc/status.proto), with the codecs generated in gen/: the transport
// needs nothing from the proto component's registry.
//
//   Request  { string service = 1; string method = 2; bytes payload = 3;
//              int64 timeout_nano = 4; repeated KeyValue metadata = 5; }
//   KeyValue { string key = 1; string value = 2; }
//   Response { google.rpc.Status status = 1; bytes payload = 2; }
import { Status as StatusCodec } from './gen/google/rpc/status.js';
import { Request as RequestCodec, Response as ResponseCodec } from './gen/ttrpc/request.js';
import type { Status } from './status.js';

export type { KeyValue, Request, Response } from './gen/ttrpc/request.js';
import type { Request, Response } from './gen/ttrpc/request.js';

export function encodeRequest(r: Request): Uint8Array {
  return RequestCodec.encode(r).finish();
}

export function decodeRequest(b: Uint8Array): Request {
  return RequestCodec.decode(b);
}

export function encodeResponse(resp: Response): Uint8Array {
  return ResponseCodec.encode(resp).finish();
}

export function decodeResponse(b: Uint8Array): Response {
  const r = ResponseCodec.decode(b);
  // Absent status (some peers' success) stays absent rather than present as undefined.
  if (r.status === undefined) delete r.status;
  return r;
}

export function encodeStatus(s: Status): Uint8Array {
  return StatusCodec.encode(s).finish();
}

export function decodeStatus(b: Uint8Array): Status {
  return StatusCodec.decode(b);
}
