import {Tracefs} from '@ftrace-ts/tracefs';
import {followPids, functionPatterns, matchFunctions, requireTracer} from './function-setup.js';
import {ToolSession} from './session.js';
import {threadsOf} from './tool-options.js';
import {traceLines, type TraceLine} from './trace-lines.js';

export interface FunctraceOptions {
	/** Function globs ("vfs_*", "do_nanosleep"); any of them. */
	readonly patterns: readonly string[];
	readonly pid?: number | undefined;
	readonly tid?: number | undefined;
	readonly durationSec?: number | undefined;
	readonly headers?: boolean | undefined;
	readonly signal?: AbortSignal | undefined;
	readonly tracefs?: Tracefs | undefined;
}

export type FunctraceRecord =
	| {readonly kind: 'start'; readonly functions: number; readonly instance: string}
	| TraceLine;

/**
 * functrace: the function tracer, filtered to the matching functions, in a
 * tracing instance of our own; yields the kernel's lines ("func <-parent").
 * Throws a runtime TracefsError naming the missing feature when the kernel
 * has or permits no function tracer; a usage one for a pattern matching
 * nothing. Everything is undone on every exit path.
 */
export async function * functrace(options: FunctraceOptions): AsyncGenerator<FunctraceRecord> {
	const patterns = functionPatterns(options.patterns);
	const tids = options.pid === undefined ? (options.tid === undefined ? undefined : [options.tid]) : threadsOf(options.pid);
	const tracefs = options.tracefs ?? await Tracefs.find();
	const session = await ToolSession.open({tool: 'functrace', signal: options.signal, tracefs});
	try {
		const instance = session.instance;
		await requireTracer(instance, 'function');
		const functions = await matchFunctions(instance, patterns);
		await instance.setFunctionFilter('set_ftrace_filter', patterns);
		await followPids(instance, tids);
		await instance.setTracer('function');
		yield {kind: 'start', functions: functions.length, instance: instance.label};
		yield * traceLines(instance, {durationSec: options.durationSec, headers: options.headers, signal: options.signal});
	} finally {
		await session.close();
	}
}
