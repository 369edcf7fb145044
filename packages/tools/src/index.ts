export {UsageError, describeError, isUsageError, runCli, exitStatus} from './cli.js';
export {ToolSession, abortOnExitSignals, instanceNameFor, ownPrefix, sleepUnlessAborted, type SessionOptions} from './session.js';
export {left, right, fixed} from './format-columns.js';
