// The CLI's diagnostics (progress, warnings, errors) on stderr through the one logger,
// as plain lines (VNODE_LOG_FORMAT=json for JSON lines). Normal output (tables, JSON,
// ids) stays on stdout and does not go through here.
import { cliLogger, type Logger } from '../log/index.js';

let root: Logger | undefined;

/** The process's CLI logger; `fields` (component "vnode run", pod, …) bind to a child. */
export function cliLog(fields?: Record<string, string>): Logger {
  root ??= cliLogger();
  return fields ? root.child(fields) : root;
}
