// containerd-shim-vnode-v2: the binary containerd runs per task. It only starts the
// manager (`start`) or cleans up after a dead task (`delete`); the manager serves
// the Task API. Each action loads only what it needs, so `start` stays fast.
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs, UsageError, type ShimArgs } from './args.js';

const VERSION = '0.1.0';

export async function main(argv: string[]): Promise<number> {
  let args: ShimArgs;
  try {
    args = parseArgs(argv);
  } catch (err) {
    process.stderr.write(`containerd-shim-vnode-v2: ${(err as Error).message}\n`);
    return 2;
  }
  if (args.version) {
    process.stdout.write(`containerd-shim-vnode-v2:\n  Version:  ${VERSION}\n`);
    return 0;
  }
  try {
    if (args.info) {
      const { runtimeInfo } = await import('./info.js');
      const { readStartOptions } = await import('./start.js');
      process.stdout.write(runtimeInfo(readStartOptions(), VERSION));
      return 0;
    }
    switch (args.action) {
      case 'start': {
        const { ensureManager, readStartOptions } = await import('./start.js');
        const opts = readStartOptions();
        const { managerInstance } = await import('./instance.js');
        const shimLog = args.address ? managerInstance(args.address).shimLog : undefined;
        // With -debug, JSON lines in shim.log, best effort: diagnostics must never fail a
        // start (nor reach stdout/stderr, which containerd reads as the address). Without
        // it the logger is not even loaded.
        let log: (msg: string) => void = () => {};
        if (args.debug && shimLog) {
          const { fileDestination, jsonLogger, logFunction } = await import('../log/index.js');
          try { mkdirSync(dirname(shimLog), { recursive: true, mode: 0o711 }); } catch { /* the lines are dropped */ }
          log = logFunction(jsonLogger({
            name: 'containerd-shim-vnode-v2', destination: fileDestination(shimLog),
            fields: { component: 'shim', task: args.id }, level: 'info',
          }).child({ namespace: args.namespace }));
        }
        log(`options on stdin: ${opts.length} bytes`);
        const inst = await ensureManager(args, { log });
        const { shimProtocol, startResponse } = await import('./bootstrap.js');
        const protocol = shimProtocol(args.publishBinary);
        log(`answering in shim protocol ${protocol}`);
        process.stdout.write(startResponse(inst.socket, protocol));
        return 0;
      }
      case 'delete': {
        const { deleteTask } = await import('./delete.js');
        const out = await deleteTask(args);
        process.stdout.write(out);
        return 0;
      }
      default:
        throw new UsageError(`unknown action ${JSON.stringify(args.action)}: want start or delete`);
    }
  } catch (err) {
    process.stderr.write(`containerd-shim-vnode-v2 ${args.action}: ${(err as Error).message}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
