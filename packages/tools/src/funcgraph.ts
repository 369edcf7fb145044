import {Tracefs, type Instance} from '@ftrace-ts/tracefs';
import {followPids, functionPatterns, matchFunctions, placeGraphTracer} from './function-setup.js';
import {ToolSession} from './session.js';
import {threadsOf} from './tool-options.js';
import {traceLines, type TraceLine} from './trace-lines.js';

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

export interface FuncgraphOptions extends GraphDisplayOptions {
	/** Graph roots: function globs (set_graph_function). */
	readonly patterns: readonly string[];
	/** -m: max call depth (max_graph_depth). */
	readonly maxDepth?: number | undefined;
	readonly pid?: number | undefined;
	readonly tid?: number | undefined;
	readonly durationSec?: number | undefined;
	readonly headers?: boolean | undefined;
	readonly signal?: AbortSignal | undefined;
	readonly tracefs?: Tracefs | undefined;
}

export type GraphRecord =
	| {readonly kind: 'start'; readonly functions: number; readonly instance: string}
	| {readonly kind: 'note'; readonly text: string}
	| TraceLine;

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
	const patterns = functionPatterns(options.patterns);
	const tids = options.pid === undefined ? (options.tid === undefined ? undefined : [options.tid]) : threadsOf(options.pid);
	const tracefs = options.tracefs ?? await Tracefs.find();
	const session = await ToolSession.open({tool: 'funcgraph', signal: options.signal, tracefs});
	try {
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
		yield {kind: 'start', functions: functions.length, instance: instance.label};
		if (fallback) {
			yield {kind: 'note', text: fallback};
		}

		yield * traceLines(instance, {durationSec: options.durationSec, headers: options.headers, keep: keepGraphLine(options.processes), signal: options.signal});
	} finally {
		await session.close();
	}
}
