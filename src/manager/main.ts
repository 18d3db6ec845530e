// vnode-manager: serves containerd's Task API for every vNode task of one containerd
// instance. Started by the shim's `start` (or as a service); thin: wiring only.
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { startTimeOf } from '../sys/index.js';
import { EventPublisher } from '../taskapi/index.js';
import { ManagerEnv } from '../shim/index.js';
import { serveTaskApi } from '../taskapi/index.js';
import { TtrpcServer } from '../ttrpc/index.js';
import { dirname, join } from 'node:path';
import { ConnectionHolder, holderFiles } from './connection-holder.js';
import { WaitJournal } from './request-journal.js';
import { instancePaths } from './paths.js';
import { ProcView } from './proc-view.js';
import { TaskService } from './service.js';
import { Supervisor } from '../seccomp/index.js';
import { helperPath } from './helpers.js';
import { jsonLogger, logFunction } from '../log/index.js';
import { startObservability } from './observability.js';
import { networkOptionsFromEnv } from './task/pod-network.js';
import { tmpfsIdmapMode, type TmpfsIdmapMode } from './pod-tmpfs/fallback.js';
import { CniFollower, cniFollowDirs } from './cni-follow.js';

export const DEFAULT_POD_FILE_PREFIXES = ['/var/lib/kubelet/pods', '/var/lib/containerd', '/run/containerd', '/var/run/containerd'];

// JSON lines on stderr, which the shim's `start` opened on manager.log. Components get
// child loggers with their own `component` (and pod/vNode/task fields where they know them).
const logger = jsonLogger({ name: 'vnode-manager', fields: { component: 'manager' } });
const log = logFunction(logger);

export async function main(argv: string[]): Promise<number> {
  const env = process.env;
  const socket = argv[0] === '--socket' && argv[1] ? argv[1] : env[ManagerEnv.socket];
  const ttrpcAddress = env[ManagerEnv.containerdTtrpcAddress] ?? (env[ManagerEnv.containerdAddress] ? `${env[ManagerEnv.containerdAddress]}.ttrpc` : undefined);
  if (!socket || !ttrpcAddress) {
    process.stderr.write(`vnode-manager: ${ManagerEnv.socket} and ${ManagerEnv.containerdTtrpcAddress} must be set (the shim's start sets them)\n`);
    return 2;
  }
  const paths = instancePaths(socket);
  mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
  const events = new EventPublisher({ address: ttrpcAddress, onError: (e, ev) => logger.warn({ component: 'events' }, `event ${ev.topic}: ${e.message}`) });
  const prefixes = [...DEFAULT_POD_FILE_PREFIXES, ...(env.VNODE_POD_FILE_PREFIXES ?? '').split(':').filter(Boolean)];
  // vnodefs first: after a crash it takes its FUSE connection back before containers
  // that were blocked reading /proc time out.
  let procView: ProcView | undefined;
  if (env.VNODE_VNODEFS !== 'false') {
    try {
      procView = await ProcView.mount(join(paths.dir, 'vnodefs'), TaskService.viewsOnDisk(paths.state), logger.child({ component: 'vnodefs' }));
    } catch (e) {
      logger.warn(`vnodefs unavailable, containers will see the kernel's /proc and /sys: ${(e as Error).message}`);
    }
  }
  // After a crash, vnode-hold starts the next manager through the shim's `start` (its lock
  // keeps two managers from starting) instead of waiting for containerd's next shim call.
  // Not for a manager that is a systemd service (VNODE_MANAGER_RESPAWN=false in the unit
  // vnode install --service writes): systemd restarts it, and a second manager the shim
  // spawned meanwhile would serve beside it (each takes the socket path over at start).
  const containerdAddress = env[ManagerEnv.containerdAddress];
  const shimLauncher = process.argv[1] ? join(dirname(process.argv[1]), 'containerd-shim-vnode-v2') : '';
  const respawn = env.VNODE_MANAGER_RESPAWN !== 'false' && containerdAddress && shimLauncher && existsSync(shimLauncher)
    ? { address: containerdAddress, command: [process.execPath, shimLauncher, '-namespace', 'vnode', '-address', containerdAddress, '-id', 'vnode-manager-restart', 'start'] }
    : undefined;
  const holder = new ConnectionHolder(holderFiles(paths.dir), logFunction(logger.child({ component: 'connection-holder' })), respawn);
  const pendingDir = join(paths.dir, 'seccomp-pending');
  mkdirSync(pendingDir, { recursive: true, mode: 0o700 });
  const supervisor = new Supervisor({ logger: logger.child({ component: 'seccomp' }), mountHelper: helperPath('vnode-mount'), notifyHelper: helperPath('vnode-notify'), keeper: holder, pendingDir });
  const network = networkOptionsFromEnv(env);
  let tmpfsIdmap: TmpfsIdmapMode;
  try {
    tmpfsIdmap = tmpfsIdmapMode(env.VNODE_TMPFS_IDMAP);
  } catch (e) {
    process.stderr.write(`vnode-manager: ${(e as Error).message}\n`);
    return 2;
  }
  // The vnode runtime's conflist follows the node's primary network (cni-follow.ts).
  const cniDirs = cniFollowDirs(env);
  const cniLog = logger.child({ component: 'cni-follow' });
  if (cniDirs) {
    cniLog.info(`following the primary CNI network in ${cniDirs.primary} into ${cniDirs.vnode} (from ${cniDirs.source})`);
    new CniFollower(cniDirs, cniLog);
  } else {
    cniLog.debug('no install record with the primary CNI conf dir and no VNODE_CNI_PRIMARY_CONF_DIR: the vnode CNI conflist is not followed');
  }
  const service = new TaskService({ paths, events, perPod: env.VNODE_PER_POD === 'true', logger, podFilePrefixes: prefixes, procView, supervisor, network, tmpfsIdmap });
  service.reload();
  await service.recoverNetworks().catch((e: Error) => logger.warn({ component: 'net', err: e }, `recovering pod networks: ${e.message}`));
  setInterval(() => service.persistSysctls(), 3000).unref();
  setInterval(() => service.reapDeadVnodes(), 1000).unref();
  const kept = await holder.start();
  service.adoptListeners(kept.listeners, (id) => holder.drop(id));
  const journal = new WaitJournal(join(paths.state, 'inflight'), (c) => holder.idOf(c.socket));
  journal.prune(new Set(kept.sockets.map((s) => holder.idOf(s)).filter((id): id is string => !!id)));
  const server = new TtrpcServer({
    journal,
    onConnection: (c) => holder.hold(c.socket, c.fd),
    onConnectionClose: (c) => {
      holder.release(c.socket);
      journal.forget(c);
    },
  });
  serveTaskApi(server, service);
  let replayed = 0;
  for (const s of kept.sockets) replayed += journal.replay(server.adopt(s));
  rmSync(socket, { force: true });
  // The manager records itself (the spawning `start` did too, but a manager systemd
  // runs has no such parent): the C front answers `start` only while this process runs.
  writeFileSync(`${paths.pidFile}.tmp`, `${process.pid} ${startTimeOf(process.pid) ?? ''}\n`);
  renameSync(`${paths.pidFile}.tmp`, paths.pidFile);
  await server.listen(socket);
  if (replayed) log(`replayed ${replayed} pending Wait call(s)`);
  const observability = await startObservability({ env, paths, service, procView, enabledVnodefs: env.VNODE_VNODEFS !== 'false', logger });
  log(`serving ${socket} for containerd at ${ttrpcAddress} (${service.store.all().length} tasks, ${service.vnodes.list().length} vNodes, ${kept.sockets.length} connections and ${kept.listeners.length} seccomp listeners reloaded)`);
  // One manager serves every pod of this containerd: a stray error in one request's
  // plumbing (a peer that went away mid-write) must not take all of them down.
  process.on('uncaughtException', (e) => logger.error({ err: e }, 'uncaught exception'));
  process.on('unhandledRejection', (e) => logger.error({ err: e }, 'unhandled rejection'));
  const stop = async (sig: string) => {
    // With tasks left, vnodefs stays mounted with its holder for the next manager to take
    // over. With none, nothing will take it over: a mount nobody serves would make every
    // host tool that stats mount points (df, mkfs's mounted check) wait forever.
    const idle = service.store.all().length === 0;
    log(`${sig}: stopping (${idle ? 'no task left: vnodefs unmounted, vnode-hold stopped' : 'containers keep running'})`);
    await server.close?.();
    await observability?.close();
    if (idle) await procView?.fs.close().catch((e: Error) => logger.warn({ component: 'vnodefs', err: e }, `vnodefs close: ${e.message}`));
    if (idle) await holder.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  await new Promise(() => undefined);
  return 0;
}
