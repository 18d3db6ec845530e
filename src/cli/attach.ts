// Connects our terminal to the one container of a pod that has `stdin: true` (as
// `kubectl run -i [-t]` does), through CRI Attach and the remote-command stream:
//   tty: stdin and the terminal's output go through the stream, our terminal in raw mode
//        (Ctrl-C then goes to the container), window size changes forwarded;
//   no tty: only stdin goes through the stream, output still comes from the CRI log
//        file (so stdout and stderr stay apart).
import type { CriClient } from '../k8s/cri/index.js';
import { openStream, type StreamSession } from '../k8s/cri/index.js';

export interface Attached {
  /** Whether the container's output comes through the stream (then its log file is not followed). */
  output: boolean;
  /** Restores the terminal and stops reading our stdin. */
  detach(): void;
}

export async function attachStdin(cri: CriClient, containerId: string, tty: boolean): Promise<Attached> {
  const url = await cri.attach({ container_id: containerId, stdin: true, tty, stdout: tty, stderr: false });
  const session: StreamSession = await openStream(url, {
    timeoutMs: 0,
    onStdout: (b) => process.stdout.write(b),
    ...(tty && process.stdout.isTTY ? { size: { width: process.stdout.columns, height: process.stdout.rows } } : {}),
  });
  const stdin = process.stdin;
  const raw = tty && stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  const onData = (b: Buffer) => session.write(b);
  // EOF on our stdin: half-close (v5), and without a tty also leave the stream (its output
  // comes from the log file), which closes the container's stdin with stdin_once on v4 too.
  const onEnd = () => {
    session.closeStdin();
    if (!tty) setTimeout(() => session.close(), 200);
  };
  const onResize = () => session.resize(process.stdout.columns, process.stdout.rows);
  stdin.on('data', onData);
  stdin.once('end', onEnd);
  if (tty && process.stdout.isTTY) process.stdout.on('resize', onResize);
  stdin.resume();
  let detached = false;
  const detach = () => {
    if (detached) return;
    detached = true;
    stdin.off('data', onData);
    stdin.off('end', onEnd);
    process.stdout.off('resize', onResize);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
    stdin.unref?.();
    session.close();
  };
  void session.done.then(() => {
    // the container closed the stream (exited or closed stdin): stop reading ours
    if (raw) stdin.setRawMode(false);
  });
  return { output: tty, detach };
}
