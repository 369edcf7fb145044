export {TracefsError, featureConfig, hintFor, errnoCode, type KernelErrorLogEntry, type TracefsErrorOptions} from './errors.js';
export {parseErrorLog, matchErrorLog} from './error-log.js';
export {validateValue, validateFunctionGlob, validateName, validateUnsigned, globToRegExp} from './validate.js';
export {Tracefs, tracefsCandidates, type WriteOptions} from './tracefs.js';
export {UndoJournal, type UndoStep, type RestoreReport} from './journal.js';
export {parseEventFormat, parseFieldDeclaration, splitTopLevel, type EventField, type EventFormat} from './format.js';
export {Instance, parseEventId, isTracefsCode, type EventId, type FunctionFilterFile, type InstanceOptions} from './instance.js';
export {probeCapabilities, type Capabilities} from './capabilities.js';
export {chooseTracer, parseNeed, needs, type Need, type TracerChoice, type TracerName} from './choose.js';
