export {UsageError, describeError, isUsageError, runCli, exitStatus} from './cli.js';
export {ToolSession, abortOnExitSignals, instanceNameFor, ownPrefix, sleepUnlessAborted, type SessionOptions} from './session.js';
export {left, right, fixed} from './format-columns.js';
export {probeTrace, requireProbeEvents, type ProbeTraceOptions, type ProbeTraceRecord} from './probe-trace.js';
export {uprobe, listUprobeTargets, type UprobeSymbol} from './uprobe.js';
export {traceLines, type TraceLine, type TraceLinesOptions} from './trace-lines.js';
