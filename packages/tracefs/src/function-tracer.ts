import type {Instance} from './instance.js';
import type {Tracefs} from './tracefs.js';

/**
 * What the function-based tools need beyond Instance: the buffered trace
 * as lines (live lines come from text-reader.ts's readTracePipe), and the
 * kernel's own counters (the function profiler switch; its counts are read
 * with summaries.ts).
 */

/** Whether a line of `trace` is part of its comment header. */
export function isTraceComment(line: string): boolean {
	return line.startsWith('#');
}

/**
 * The comment header of an instance's `trace` file, read up to its first
 * event line: not the whole buffer, which while tracing can grow as fast as
 * it is read (a probe on malloc traces the reader itself).
 */
export async function readTraceHeader(instance: Instance): Promise<string[]> {
	return instance.tracefs.readLeadingLines(instance.file('trace'), isTraceComment);
}

/** The whole buffered trace of an instance, as lines (header comments included). */
export async function readTraceText(instance: Instance): Promise<string[]> {
	const text = await instance.read('trace');
	const lines = text.split('\n');
	if (lines.at(-1) === '') {
		lines.pop();
	}

	return lines;
}

// ---- function profiler (CONFIG_FUNCTION_PROFILER) ---------------------------

/** Whether the kernel has the function profiler. */
export async function hasFunctionProfiler(tracefs: Tracefs): Promise<boolean> {
	return tracefs.exists('function_profile_enabled');
}

/**
 * Switch the function profiler on or off. Turning it on resets its counts.
 * The profiler counts the functions in the top instance's set_ftrace_filter.
 */
export async function setFunctionProfiler(tracefs: Tracefs, on: boolean): Promise<void> {
	await tracefs.write('function_profile_enabled', on ? '1' : '0', {what: 'function_profile_enabled'});
}
