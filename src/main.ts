// One multi-call program, like busybox: the component is chosen by the name it was started as.
import { basename } from 'node:path';

type Main = (argv: string[]) => Promise<number>;

const components: Record<string, () => Promise<Main>> = {
  'containerd-shim-vnode-v2': async () => (await import('./shim/main.js')).main,
  'vnode-manager': async () => (await import('./manager/main.js')).main,
  vnode: async () => (await import('./cli/main.js')).main,
};

const name = basename(process.argv[1] ?? 'vnode');
const load = components[name] ?? components.vnode!;
const main = await load();
process.exitCode = await main(process.argv.slice(2));
