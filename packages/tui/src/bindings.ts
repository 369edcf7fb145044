/**
 * Every tool the TUI can run, bound to its core: kprobe and uprobe through
 * probeTrace, the perf-tools ports as @ftrace-ts/tools exports them, and for
 * tools whose core is not exported yet, replays of recorded traces through
 * the tracefs reader.
 */
import {probeBinding, replayOnly, type CoreBinding} from './cores.js';
import {landedBindings} from './landed-cores.js';

export const coreBindings: Readonly<Record<string, CoreBinding>> = {
	tpoint: replayOnly('tpoint', 'rows'),
	funcgraph: replayOnly('funcgraph', 'graph'),
	functrace: replayOnly('functrace', 'rows'),
	kprobe: probeBinding('kprobe'),
	uprobe: probeBinding('uprobe'),
	...landedBindings(),
};
