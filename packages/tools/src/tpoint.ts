/**
 * tpoint core: enable one tracepoint in the tool's own instance (with an
 * optional kernel filter, PID/TID restriction and kernel stacks) and pass
 * on the kernel's own trace lines, or the decoded events.
 */
import {Instance, Tracefs, globToRegExp, parseEventId, type EventId} from '@ftrace-ts/tracefs';
import {UsageError} from './cli.js';
import {traceInput, type InputLine, type InputRecord, type TraceStarted} from './trace-input.js';
import {checkPrintable, parsePid, parseSeconds, pidFilter, threadsOf} from './tool-options.js';
import {type ToolLost, type ToolStart} from './tool-records.js';

export interface TpointOptions {
	/** "subsystem:event". */
	readonly tracepoint: string;
	/** A kernel event filter, eg "bytes > 65536". */
	readonly filter?: string | undefined;
	readonly pid?: number | undefined;
	readonly tid?: number | undefined;
	/** Kernel stack trace after each event. */
	readonly stacks?: boolean | undefined;
	/** Yield the trace header lines first (-H). */
	readonly headers?: boolean | undefined;
	readonly durationSeconds?: number | undefined;
	readonly replay?: string | undefined;
	/** Yield decoded events (fields by name) instead of the kernel's text lines. */
	readonly decoded?: boolean | undefined;
	readonly tracefs?: Tracefs | undefined;
}

/** A line as the kernel printed it. */
export interface TpointLine {
	readonly type: 'line';
	readonly text: string;
}

/** A decoded event (--json). */
export interface TpointEvent {
	readonly type: 'event';
	readonly time: number;
	readonly cpu: number;
	readonly pid: number;
	readonly comm: string;
	readonly event: string;
	readonly fields: Readonly<Record<string, unknown>>;
	readonly stack?: readonly string[] | undefined;
}

export type TpointRecord = ToolStart | ToolLost | TpointLine | TpointEvent;

/** Validate; returns the event id. Throws UsageError / usage TracefsError. */
export function checkTpointOptions(options: TpointOptions): EventId {
	const id = parseEventId(checkPrintable(options.tracepoint, 'tracepoint'));
	if (options.pid !== undefined && options.tid !== undefined) {
		throw new UsageError('use at most one of -p and -L');
	}

	if (options.filter !== undefined) {
		checkPrintable(options.filter, 'filter');
	}

	if (options.durationSeconds !== undefined) {
		parseSeconds(options.durationSeconds, 'duration');
	}

	if (options.replay === undefined) {
		if (options.pid !== undefined) {
			parsePid(options.pid);
		}

		if (options.tid !== undefined) {
			parsePid(options.tid, 'TID');
		}
	}

	return id;
}

/** Every tracepoint "subsystem:event", sorted; only those matching `glob` when given. */
export async function listTracepoints(glob?: string, tracefs?: Tracefs): Promise<string[]> {
	const pattern = glob === undefined ? undefined : globToRegExp(checkGlob(checkPrintable(glob, 'glob')));
	const top = Instance.top(tracefs ?? await Tracefs.find());
	const names = (await top.allEvents()).map(id => `${id.system}:${id.event}`);
	return names.filter(name => !pattern || pattern.test(name) || pattern.test(name.split(':')[1]!)).sort();
}

/** The tracepoint's format file, as the kernel prints it. Throws a usage error for an unknown tracepoint. */
export async function tracepointFormat(tracepoint: string, tracefs?: Tracefs): Promise<string> {
	const id = parseEventId(checkPrintable(tracepoint, 'tracepoint'));
	const top = Instance.top(tracefs ?? await Tracefs.find());
	await top.eventFormat(id);
	return top.read(`events/${id.system}/${id.event}/format`);
}

/**
 * Trace the tracepoint until aborted, for the duration, or through a
 * replay. Yields a start record, then lines (or decoded events) and lost
 * gaps. Undoes everything on every exit.
 */
export async function * tpoint(options: TpointOptions, signal?: AbortSignal): AsyncGenerator<TpointRecord> {
	const id = checkTpointOptions(options);
	const live = options.replay === undefined;
	const tids = options.pid === undefined ? options.tid === undefined ? undefined : [options.tid] : live ? threadsOf(options.pid) : [options.pid];
	const tidSet = tids && new Set(tids);
	let headerLines: string[] = [];
	const input = traceInput({
		tool: 'tpoint',
		signal,
		durationSeconds: options.durationSeconds,
		replay: options.replay,
		tracefs: options.tracefs,
		lines: !options.decoded,
		async setup(session) {
			const instance = session.instance;
			await instance.eventFormat(id);
			const filters = [options.filter, tids && pidFilter(tids)].filter((part): part is string => part !== undefined && part !== '');
			if (filters.length > 0) {
				await instance.setEventFilter(id, filters.length === 1 ? filters[0]! : filters.map(part => `(${part})`).join(' && '));
			}

			if (options.stacks) {
				await instance.setOption('stacktrace', true);
			}

			await instance.enableEvent(id);
			if (options.headers && options.durationSeconds === undefined) {
				headerLines = (await instance.read('trace')).split('\n').filter(line => line.startsWith('#'));
			}
		},
	});

	let keeping = false;
	for await (const record of input as AsyncIterable<InputRecord | InputLine | TraceStarted>) {
		switch (record.kind) {
			case 'started': {
				yield {type: 'start', mode: record.mode, mechanism: `tracepoint ${id.system}:${id.event}${options.stacks ? ' with kernel stacks (stacktrace option)' : ''}`};
				for (const text of headerLines) {
					yield {type: 'line', text};
				}

				break;
			}

			case 'lost': {
				keeping = false;
				yield {type: 'lost', count: record.count, cpu: record.cpu};
				break;
			}

			case 'line': {
				if (record.lost) {
					keeping = false;
					yield {type: 'lost', count: record.lost.count, cpu: record.lost.cpu};
				} else if (record.comment) {
					if (options.headers && options.durationSeconds !== undefined) {
						yield {type: 'line', text: record.text};
					}
				} else if (record.continuation) {
					if (keeping) {
						yield {type: 'line', text: record.text};
					}
				} else if (record.event !== undefined) {
					// Replays hold every event of the recording: keep this tracepoint's.
					keeping = record.event === id.event && (!tidSet || live || tidSet.has(record.pid ?? -1));
					if (keeping) {
						yield {type: 'line', text: record.text};
					}
				}

				break;
			}

			case 'event': {
				if (record.event === id.event && (!tidSet || live || tidSet.has(record.pid))) {
					yield {type: 'event', time: record.timestamp, cpu: record.cpu, pid: record.pid, comm: record.comm, event: record.event, fields: record.fields, ...(record.stack ? {stack: record.stack} : {})};
				}

				break;
			}

			default: {
				break;
			}
		}
	}
}

/** A listing glob: brackets must pair, as the shell would have them. */
function checkGlob(glob: string): string {
	let open = false;
	for (const ch of glob) {
		if (ch === '[') {
			if (open) {
				break;
			}

			open = true;
		} else if (ch === ']') {
			open = false;
		}
	}

	if (open) {
		throw new UsageError(`glob "${glob}" has an unclosed bracket`);
	}

	return glob;
}
