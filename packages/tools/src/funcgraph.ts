import type {Instance} from '@ftrace-ts/tracefs';
import {followPids, matchFunctions, placeGraphTracer, runFunctionTracer, type FunctionRecord, type FunctionRunOptions} from './function-setup.js';

/** Display options of function_graph, as perf-tools' -C -D -P -t -T set them. */
export interface GraphDisplayOptions {
	/** -C: on-CPU time only (nosleep-time). */
	readonly cpuOnly?: boolean | undefined;
	/** -D: no duration column. */
	readonly noDuration?: boolean | undefined;
	/** -P: process names and PIDs. */
	readonly processes?: boolean | undefined;
	/** -t: absolute timestamps. */
	readonly timestamps?: boolean | undefined;
	/** -T: comment function tails. */
	readonly tails?: boolean | undefined;
}

export interface FuncgraphOptions extends GraphDisplayOptions, FunctionRunOptions {
	/** -m: max call depth (max_graph_depth). */
	readonly maxDepth?: number | undefined;
}

export type GraphRecord = FunctionRecord;

/** Set the funcgraph-* and sleep-time options; each is journaled by the instance. */
export async function setGraphDisplay(instance: Instance, options: GraphDisplayOptions): Promise<void> {
	if (options.cpuOnly) {
		await instance.setOption('sleep-time', false);
	}

	if (options.timestamps) {
		await instance.setOption('funcgraph-abstime', true);
	}

	if (options.processes) {
		await instance.setOption('funcgraph-proc', true);
	}

	if (options.tails) {
		await instance.setOption('funcgraph-tail', true);
	}

	if (options.noDuration) {
		await instance.setOption('funcgraph-duration', false);
	}
}

/** With -P the originals drop the context-switch banners ("---", "a-1 => b-2") and blank lines. */
export function keepGraphLine(processes: boolean | undefined): (text: string) => boolean {
	if (!processes) {
		return () => true;
	}

	return text => text.trim() !== '' && !/^\s*-{3,}/.test(text) && !/^\s*\d+\)\s+\S.*\s=>\s+\S+\s*$/.test(text);
}

/**
 * funcgraph: function_graph rooted at the matching functions. Runs in an
 * instance of our own where the kernel allows function_graph there,
 * otherwise in the top instance (only when its tracer is nop) with every
 * change journaled and undone on exit. Yields the kernel's graph lines.
 */
export async function * funcgraph(options: FuncgraphOptions): AsyncGenerator<GraphRecord> {
	yield * runFunctionTracer('funcgraph', options, async (session, patterns, tids) => {
		const {instance, fallback} = await placeGraphTracer(session);
		const functions = await matchFunctions(instance, patterns);
		if (options.maxDepth !== undefined) {
			await instance.setMaxGraphDepth(options.maxDepth);
		}

		await followPids(instance, tids);
		if ((await instance.functionFilter('set_ftrace_filter')).length > 0) {
			await instance.setFunctionFilter('set_ftrace_filter', []);
		}

		await instance.setFunctionFilter('set_graph_function', patterns);
		await instance.setTracer('function_graph');
		await setGraphDisplay(instance, options);
		await instance.clear();
		return {instance, functions: functions.length, note: fallback, keep: keepGraphLine(options.processes)};
	});
}
