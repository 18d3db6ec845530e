// diagnostics_channel `vnode:seccomp:notification`: one message per notification the
// supervisor answers, for metrics.
import { channel } from 'node:diagnostics_channel';

export interface SeccompNotification {
  syscall: string;
}

export const seccompNotifications = channel('vnode:seccomp:notification');
