import {followPids, matchFunctions, requireTracer, runFunctionTracer, type FunctionRecord, type FunctionRunOptions} from './function-setup.js';

export type FunctraceOptions = FunctionRunOptions;

export type FunctraceRecord = Exclude<FunctionRecord, {readonly kind: 'note'}>;

/**
 * functrace: the function tracer, filtered to the matching functions, in a
 * tracing instance of our own; yields the kernel's lines ("func <-parent").
 * Throws a runtime TracefsError naming the missing feature when the kernel
 * has or permits no function tracer; a usage one for a pattern matching
 * nothing. Everything is undone on every exit path.
 */
export async function * functrace(options: FunctraceOptions): AsyncGenerator<FunctraceRecord> {
	// No note: the function tracer always runs in our own instance.
	yield * runFunctionTracer('functrace', options, async ({instance}, patterns, tids) => {
		await requireTracer(instance, 'function');
		const functions = await matchFunctions(instance, patterns);
		await instance.setFunctionFilter('set_ftrace_filter', patterns);
		await followPids(instance, tids);
		await instance.setTracer('function');
		return {instance, functions: functions.length};
	}) as AsyncGenerator<FunctraceRecord>;
}
