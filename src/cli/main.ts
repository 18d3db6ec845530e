// Entry point of the `vnode` command: dispatch only; each command lives in its own file.
import { ExitCode, exitCodeFor, isVnodeError } from './errors.js';
import { cliLog } from './log.js';

export const USAGE = `Usage: vnode COMMAND [flags]

Commands:
  run POD.yaml            run a Pod manifest on this machine in a vNode (through CRI)
  ps                      list vNodes with their pods (-o json|wide)
  inspect NAME            details of one vNode (JSON)
  delete POD [-n NS]      remove a pod that "vnode run --detach" left running
  doctor                  check this machine for what vnode needs
  containerd stop|status  vnode's own containerd (started by vnode run when needed)
  image build-busybox     build busybox from Debian's busybox-static and import it
  image build-docker      build a Docker-in-Docker image (debootstrap, docker.io) and import it
  image build-systemd     build a systemd image (debootstrap, systemd as PID 1) and import it
  image build-vnode       build the vnode DaemonSet image (OCI archive)
  install                 install the vnode runtime into this node's containerd
  uninstall               undo vnode install (the original containerd config, byte for byte)

Run "vnode COMMAND --help" for the flags of a command.
`;

type Command = (argv: string[]) => Promise<number>;

const commands: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run.js')).runCommand,
  ps: async () => (await import('./ps.js')).psCommand,
  inspect: async () => (await import('./inspect.js')).inspectCommand,
  delete: async () => (await import('./delete.js')).deleteCommand,
  doctor: async () => (await import('./doctor.js')).doctorCommand,
  containerd: async () => (await import('./containerd-cmd.js')).containerdCommand,
  image: async () => (await import('./image-cmd.js')).imageCommand,
  install: async () => (await import('./install-cmd.js')).installCommand,
  uninstall: async () => (await import('./install-cmd.js')).uninstallCommand,
};

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(USAGE);
    return name === undefined ? ExitCode.usage : ExitCode.ok;
  }
  const load = commands[name];
  if (!load) {
    process.stderr.write(`vnode: unknown command "${name}"\n${USAGE}`);
    return ExitCode.usage;
  }
  try {
    return await (await load())(rest);
  } catch (err) {
    // The one place errors become output and an exit code: an error vnode raised on
    // purpose is its message; anything else is a bug, shown with its stack.
    const log = cliLog({ component: `vnode ${name}` });
    if (isVnodeError(err)) {
      log.error({ code: err.code }, err.message);
      return exitCodeFor(err.code);
    }
    log.error({ err }, (err as Error)?.stack ?? String(err));
    return ExitCode.failed;
  }
}
