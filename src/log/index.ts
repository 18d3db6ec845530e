// Public surface of the logger: pino, configured once for vnode (JSON lines for the
// manager and the shim, plain lines for the CLI), with pod/vNode/task/exec fields.
export {
  callbackLogger, silentLogger, fileDestination, jsonLogger, levelFromEnv, logFunction, stderrDestination, LOG_LEVELS,
  type JsonLoggerOptions, type LogDestination, type LogFields, type Logger, type LogLevel,
} from './logger.js';
export { cliLogger, formatHuman, humanDestination, type CliLoggerOptions } from './human.js';
