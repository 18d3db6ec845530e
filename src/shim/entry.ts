// Stand-alone entry of the shim binary. The multi-call bundle (src/main.ts) also runs the
// shim, but it carries every component's static imports (the CLI's gRPC client among
// them) into the shim's start-up; bundling this file on its own gives a shim that
// starts in about half the time (see docs/protocol.md, "Measured").
import { main } from './main.js';

process.exitCode = await main(process.argv.slice(2));
