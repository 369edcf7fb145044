export {UsageError, describeError, isUsageError, runCli, exitStatus} from './cli.js';
