// A NETLINK_ROUTE socket of one network namespace, used synchronously: the kernel
// answers rtnetlink requests (and the first part of a dump) before send returns, so a
// blocking recv waits for nothing but the copy (a 5 s receive timeout guards the rest).
import { closeSync } from 'node:fs';
import { errnoName, netlinkRouteSocketIn, recvDatagram, sendDatagram, sendDatagramAsync } from '../../sys/index.js';
import { decodeError, decodeMessages, doneStatus, NLM_F_DUMP_INTR, NLMSG_DONE, NLMSG_ERROR, type NlMessage } from './wire.js';

/** The kernel refused a request: its errno and, with extended acks, its reason. */
export class RtnlError extends Error {
  constructor(
    readonly errno: number,
    readonly reason?: string,
  ) {
    super(`${reason ? `${reason} ` : ''}(${errnoName(errno)})`);
    this.name = 'RtnlError';
  }
}

const EINTR = 4;
const DUMP_TRIES = 3;

export class Rtnl {
  private seq = 1;
  private readonly buf = Buffer.alloc(64 << 10);

  private constructor(private fd: number) {}

  /** A socket bound to the namespace at `netnsPath`. */
  static open(netnsPath: string): Rtnl {
    return new Rtnl(netlinkRouteSocketIn(netnsPath));
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  /** Sends a request (built with seq) and returns the messages answering it up to its ack. */
  request(build: (seq: number) => Buffer): NlMessage[] {
    return this.exchange(build, false);
  }

  /** A dump's messages (retried if the table changed under it). */
  dump(build: (seq: number) => Buffer): NlMessage[] {
    for (let i = 1; ; i++) {
      try {
        return this.exchange(build, true);
      } catch (e) {
        if (!(e instanceof RtnlError && e.errno === EINTR) || i >= DUMP_TRIES) throw e;
      }
    }
  }

  /** request, with the send on a worker thread: for requests the kernel is slow to carry out (a move to another namespace). */
  async requestSlow(build: (seq: number) => Buffer): Promise<NlMessage[]> {
    const seq = this.seq++;
    await sendDatagramAsync(this.fd, build(seq));
    return this.answer(seq, false);
  }

  private exchange(build: (seq: number) => Buffer, dump: boolean): NlMessage[] {
    const seq = this.seq++;
    sendDatagram(this.fd, build(seq));
    return this.answer(seq, dump);
  }

  private answer(seq: number, dump: boolean): NlMessage[] {
    const out: NlMessage[] = [];
    let interrupted = false;
    for (;;) {
      const n = recvDatagram(this.fd, this.buf);
      // copied: the messages kept point into it, and the next datagram reuses the buffer
      for (const m of decodeMessages(Buffer.from(this.buf.subarray(0, n)))) {
        if (m.seq !== seq) continue; // a late answer to an earlier request
        if (m.flags & NLM_F_DUMP_INTR) interrupted = true;
        if (m.type === NLMSG_ERROR) {
          const { errno, message } = decodeError(m);
          if (errno !== 0) throw new RtnlError(errno, message);
          if (!dump) return out;
        } else if (m.type === NLMSG_DONE) {
          const status = doneStatus(m);
          if (status < 0) throw new RtnlError(-status);
          if (interrupted) throw new RtnlError(EINTR, 'the dump was interrupted by a change');
          return out;
        } else out.push(m);
      }
    }
  }
}
