// The listener ioctls the supervisor answers with (include/uapi/linux/seccomp.h).
import { errno, libc } from '../sys/index.js';
import { encodeResponse, SECCOMP_IOCTL_NOTIF_ID_VALID, SECCOMP_IOCTL_NOTIF_SEND } from './abi.js';

let ioctl: ((fd: number, req: number, b: Uint8Array) => number) | undefined;
function f() {
  ioctl ??= libc().func('int ioctl(int fd, unsigned long req, _Inout_ uint8_t *buf)') as never;
  return ioctl;
}

/** Whether notification `id` is still pending (its caller has not gone or been interrupted). */
export function notificationPending(fd: number, id: bigint): boolean {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, id, true);
  return f()(fd, SECCOMP_IOCTL_NOTIF_ID_VALID, b) === 0;
}

/** Answers notification `id`; 0, or the errno of the ioctl (ENOENT: the caller went away). */
export function respond(fd: number, id: bigint, r: Parameters<typeof encodeResponse>[1]): number {
  return f()(fd, SECCOMP_IOCTL_NOTIF_SEND, encodeResponse(id, r)) === 0 ? 0 : errno();
}
