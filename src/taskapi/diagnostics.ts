// diagnostics_channel `vnode:taskapi:call`: one message per Task API call served, for
// metrics (src/metrics subscribes in the manager); free while nobody subscribes.
import { channel } from 'node:diagnostics_channel';

/** One Task API call: the verb, its duration, and the error code it ended with ('' = OK). */
export interface TaskApiCall {
  verb: string;
  seconds: number;
  code: string;
}

export const taskApiCalls = channel('vnode:taskapi:call');
