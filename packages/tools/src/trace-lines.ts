import {isTraceComment, readTracePipe, readTraceText, type Instance} from '@ftrace-ts/tracefs';
import {sleepUnlessAborted} from './session.js';

/**
 * One line of the kernel's own trace output, as kprobe, uprobe, functrace,
 * funcgraph and funcslower print it. `header` marks the comment lines of
 * the trace file (printed with -H).
 */
export interface TraceLine {
	readonly kind: 'line';
	readonly text: string;
	readonly header: boolean;
}

export interface TraceLinesOptions {
	/** Buffered mode: wait this long, then read `trace` once. Live (trace_pipe) when undefined. */
	readonly durationSec?: number | undefined;
	/** Include the trace file's header comments. */
	readonly headers?: boolean | undefined;
	/** Drop a line when this returns false (e.g. funcgraph -P's separators). */
	readonly keep?: ((text: string) => boolean) | undefined;
	readonly signal?: AbortSignal | undefined;
}

/**
 * The trace lines of an instance: live from trace_pipe until `signal`
 * aborts, or (with a duration) the whole buffer after the duration or an
 * earlier abort. The caller owns the instance.
 */
export async function * traceLines(instance: Instance, options: TraceLinesOptions): AsyncGenerator<TraceLine> {
	const keep = options.keep ?? (() => true);
	if (options.durationSec !== undefined) {
		await sleepUnlessAborted(options.durationSec * 1000, options.signal);
		// Stop recording first: reading `trace` would otherwise trace itself
		// (vfs_read, malloc...) and never reach the end. Journaled with the instance.
		await instance.setTracingOn(false);
		for (const text of await readTraceText(instance)) {
			const header = isTraceComment(text);
			if ((header && options.headers) || (!header && keep(text))) {
				yield {kind: 'line', text, header};
			}
		}

		return;
	}

	if (options.headers) {
		for (const text of await readTraceText(instance)) {
			if (isTraceComment(text)) {
				yield {kind: 'line', text, header: true};
			}
		}
	}

	for await (const text of readTracePipe(instance, {signal: options.signal})) {
		if (keep(text)) {
			yield {kind: 'line', text, header: false};
		}
	}
}
