import {Tracefs} from '@ftrace-ts/tracefs';
import {followPids, functionPatterns, matchFunctions, placeGraphTracer} from './function-setup.js';
import {keepGraphLine, setGraphDisplay, type GraphRecord} from './funcgraph.js';
import {ToolSession} from './session.js';
import {threadsOf} from './tool-options.js';
import {traceLines} from './trace-lines.js';

export interface FuncslowerOptions {
	readonly patterns: readonly string[];
	/** Report calls slower than this (tracing_thresh, microseconds). */
	readonly latencyUs: number;
	readonly cpuOnly?: boolean | undefined;
	readonly processes?: boolean | undefined;
	readonly timestamps?: boolean | undefined;
	readonly pid?: number | undefined;
	readonly tid?: number | undefined;
	readonly durationSec?: number | undefined;
	readonly headers?: boolean | undefined;
	readonly signal?: AbortSignal | undefined;
	readonly tracefs?: Tracefs | undefined;
}

/**
 * funcslower: function_graph on the matching functions with tracing_thresh
 * set, so the kernel itself emits only the returns slower than the
 * threshold (one "} /* func *\/" line with its duration each). Placement
 * and restore as funcgraph; tracing_thresh is put back on exit.
 */
export async function * funcslower(options: FuncslowerOptions): AsyncGenerator<GraphRecord> {
	const patterns = functionPatterns(options.patterns);
	const tids = options.pid === undefined ? (options.tid === undefined ? undefined : [options.tid]) : threadsOf(options.pid);
	const tracefs = options.tracefs ?? await Tracefs.find();
	const session = await ToolSession.open({tool: 'funcslower', signal: options.signal, tracefs});
	try {
		const {instance, fallback} = await placeGraphTracer(session);
		const functions = await matchFunctions(instance, patterns);
		await instance.setTracingThresh(options.latencyUs);
		await followPids(instance, tids);
		await instance.setFunctionFilter('set_ftrace_filter', patterns);
		await instance.setFunctionFilter('set_graph_function', patterns);
		await instance.setTracer('function_graph');
		await setGraphDisplay(instance, {cpuOnly: options.cpuOnly, processes: options.processes, timestamps: options.timestamps});
		await instance.clear();
		yield {kind: 'start', functions: functions.length, instance: instance.label};
		if (fallback) {
			yield {kind: 'note', text: fallback};
		}

		yield * traceLines(instance, {durationSec: options.durationSec, headers: options.headers, keep: keepGraphLine(options.processes), signal: options.signal});
	} finally {
		await session.close();
	}
}
