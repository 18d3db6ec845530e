// diagnostics_channel `vnode:vnodefs:request`: one message per FUSE request answered, for
// metrics. The handler measures only while someone subscribes (hasSubscribers).
import { channel } from 'node:diagnostics_channel';

export interface VnodefsRequest {
  opcode: number;
  seconds: number;
  /** The errno it was answered with (0 = success). */
  errno: number;
}

export const vnodefsRequests = channel('vnode:vnodefs:request');
