import {followPids, matchFunctions, placeGraphTracer, runFunctionTracer, type FunctionRunOptions} from './function-setup.js';
import {keepGraphLine, setGraphDisplay, type GraphRecord} from './funcgraph.js';

export interface FuncslowerOptions extends FunctionRunOptions {
	/** Report calls slower than this (tracing_thresh, microseconds). */
	readonly latencyUs: number;
	readonly cpuOnly?: boolean | undefined;
	readonly processes?: boolean | undefined;
	readonly timestamps?: boolean | undefined;
}

/**
 * funcslower: function_graph on the matching functions with tracing_thresh
 * set, so the kernel itself emits only the returns slower than the
 * threshold (one "} /* func *\/" line with its duration each). Placement
 * and restore as funcgraph; tracing_thresh is put back on exit.
 */
export async function * funcslower(options: FuncslowerOptions): AsyncGenerator<GraphRecord> {
	yield * runFunctionTracer('funcslower', options, async (session, patterns, tids) => {
		const {instance, fallback} = await placeGraphTracer(session);
		const functions = await matchFunctions(instance, patterns);
		await instance.setTracingThresh(options.latencyUs);
		await followPids(instance, tids);
		await instance.setFunctionFilter('set_ftrace_filter', patterns);
		await instance.setFunctionFilter('set_graph_function', patterns);
		await instance.setTracer('function_graph');
		await setGraphDisplay(instance, {cpuOnly: options.cpuOnly, processes: options.processes, timestamps: options.timestamps});
		await instance.clear();
		return {instance, functions: functions.length, note: fallback, keep: keepGraphLine(options.processes)};
	});
}
