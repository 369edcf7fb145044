import {InBandLosses, isTraceComment, parseTraceLine, readAllCpuStats, readTraceHeader, readTracePipe, readTraceText, statsLosses, type Instance} from '@ftrace-ts/tracefs';
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

/**
 * Events the kernel dropped on one CPU: a "CPU:N [LOST n EVENTS]" line of
 * trace_pipe, or (at the end) the growth of the CPU's overrun that no such
 * line reported. `count` is undefined when the kernel did not say how many.
 */
export interface TraceLost {
	readonly kind: 'lost';
	readonly count: number | undefined;
	readonly cpu: number;
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
 * earlier abort. Gaps come as TraceLost records instead of the kernel's
 * "[LOST n EVENTS]" lines, and at the end for the events the per_cpu stats
 * say were overwritten beyond those (in buffered mode: all of them). The
 * buffer must have been empty when tracing started (a new instance, or one
 * cleared): the kernel's lost counts run from then, and so do these. The
 * caller owns the instance.
 */
export async function * traceLines(instance: Instance, options: TraceLinesOptions): AsyncGenerator<TraceLine | TraceLost> {
	const keep = options.keep ?? (() => true);
	const inBand = new InBandLosses();
	/** A lost-events line as a record (noted, so the stats do not count it again), or undefined. */
	const gapOf = (text: string): TraceLost | undefined => {
		if (!text.startsWith('CPU:')) {
			return undefined;
		}

		const parsed = parseTraceLine(text);
		if (parsed.kind !== 'record' || parsed.record.kind !== 'lost') {
			return undefined;
		}

		inBand.note(parsed.record);
		return {kind: 'lost', count: parsed.record.count, cpu: parsed.record.cpu};
	};

	if (options.durationSec !== undefined) {
		await sleepUnlessAborted(options.durationSec * 1000, options.signal);
		// Stop recording first: reading `trace` would otherwise trace itself
		// (vfs_read, malloc...) and never reach the end. Journaled with the instance.
		await instance.setTracingOn(false);
		for (const text of await readTraceText(instance)) {
			const header = isTraceComment(text);
			const gap = header ? undefined : gapOf(text);
			if (gap) {
				yield gap;
			} else if ((header && options.headers) || (!header && keep(text))) {
				yield {kind: 'line', text, header};
			}
		}
	} else {
		if (options.headers) {
			for (const text of await readTraceHeader(instance)) {
				yield {kind: 'line', text, header: true};
			}
		}

		for await (const text of readTracePipe(instance, {signal: options.signal})) {
			const gap = gapOf(text);
			if (gap) {
				yield gap;
			} else if (keep(text)) {
				yield {kind: 'line', text, header: false};
			}
		}
	}

	yield * await lossesBeyond(instance, inBand);
}

/**
 * The losses an instance's per_cpu stats count (since its buffer was
 * empty) beyond those its "[LOST n EVENTS]" lines reported (`inBand`).
 */
export async function lossesBeyond(instance: Instance, inBand: InBandLosses): Promise<TraceLost[]> {
	const stats = await readAllCpuStats(instance).catch(() => undefined);
	return stats ? [...statsLosses(undefined, stats, inBand)].map(lost => ({kind: 'lost', count: lost.count, cpu: lost.cpu})) : [];
}
