/**
 * The tool cores bound to the TUI: how form values become a core's options
 * (validated by the core's own check function, as the CLI validates them),
 * and how its records become view feeds. A tool whose core has not landed in
 * @ftrace-ts/tools has no binding and is shown as not available yet.
 */
import {parseProbeDefinition, parseTraceLine, readTraceTextFile, validateProbeDefinition, type ProbeKind} from '@ftrace-ts/tracefs';
import {probeTrace, replayProgress, uprobe, type ProbeTraceRecord} from '@ftrace-ts/tools';
import {existsSync} from 'node:fs';
import type {Feed, GraphFeed, RowFeed} from './feed.js';

/** Values of a launch form, by field key: text fields are strings, switches booleans. */
export type FormValues = Readonly<Record<string, string | boolean | undefined>>;

export interface RunContext {
	readonly signal: AbortSignal;
	/** Replay this recorded trace instead of tracing the kernel. */
	readonly replay?: string | undefined;
}

export interface CoreBinding {
	/** Validate the form as the CLI would; throws (UsageError) naming the bad value. */
	check(values: FormValues, replay?: string): void;
	/** Start the core; iterate to run it; the signal stops it (and its session restores state). */
	run(values: FormValues, context: RunContext): AsyncIterable<Feed>;
	/** True when only recorded traces can be replayed (the live core is not in this build). */
	readonly replayOnly?: boolean | undefined;
}

/** A text value, or undefined when empty. */
export function text(values: FormValues, key: string): string | undefined {
	const value = values[key];
	return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** A numeric text value as a number when it is one; otherwise the text, for the core to reject by name. */
export function numeric(values: FormValues, key: string): number | undefined {
	const value = text(values, key);
	if (value === undefined) {
		return undefined;
	}

	return /^\d+(?:\.\d+)?$/.test(value) ? Number(value) : value as unknown as number;
}

/**
 * Checks of the options most tools share (-p, -L, -d, intervals), for cores
 * that export no check function of their own; the core checks again when it starts.
 */
export function checkCommonOptions(values: FormValues): void {
	for (const [key, what] of [['pid', 'PID'], ['tid', 'TID']] as const) {
		const value = text(values, key);
		if (value !== undefined && (!/^\d+$/.test(value) || !existsSync(`/proc/${value}`))) {
			throw new Error(/^\d+$/.test(value) ? `${what} ${value} does not exist` : `${what} must be a process id, got "${value}"`);
		}
	}

	for (const [key, what] of [['duration', 'duration'], ['interval', 'interval']] as const) {
		const value = text(values, key);
		if (value !== undefined && !(/^\d+(?:\.\d+)?$/.test(value) && Number(value) > 0)) {
			throw new Error(`${what} must be a positive number of seconds, got "${value}"`);
		}
	}

	if (text(values, 'pid') !== undefined && text(values, 'tid') !== undefined) {
		throw new Error('use at most one of -p and -L');
	}
}

export function flag(values: FormValues, key: string): boolean | undefined {
	return values[key] === true ? true : undefined;
}

/**
 * A line of the kernel's own trace text as a table row: split into its
 * context (time, task, CPU) by the tracefs text reader, the rest as DETAIL.
 */
export function lineRow(text: string): RowFeed | undefined {
	const parsed = parseTraceLine(text);
	if (parsed.kind === 'skip') {
		return undefined;
	}

	if (parsed.kind === 'frame') {
		return {kind: 'row', cells: {body: parsed.text}, detail: {line: text}};
	}

	const context = parsed.kind === 'body' ? parsed.context : parsed.record;
	const body = parsed.kind === 'body' ? `${parsed.formatName ? `${parsed.formatName}: ` : ''}${parsed.body}` : text.trim();
	const time = 'timestamp' in context && typeof context.timestamp === 'number' ? context.timestamp.toFixed(6) : '';
	const comm = 'comm' in context && typeof context.comm === 'string' ? context.comm : '';
	const pid = 'pid' in context && typeof context.pid === 'number' ? String(context.pid) : '';
	return {kind: 'row', cells: {time, comm, pid, event: parsed.kind === 'body' ? parsed.formatName ?? '' : '', body: parsed.kind === 'body' ? parsed.body : body}, detail: {line: text, cpu: context.cpu}};
}

/** A function_graph line of the kernel's text as a graph feed (via the tracefs text reader). */
export function graphLine(text: string): GraphFeed | undefined {
	const parsed = parseTraceLine(text);
	if (parsed.kind !== 'record' || parsed.record.kind !== 'graph') {
		return undefined;
	}

	const line = parsed.record;
	const type = line.type === 'entry' || line.type === 'exit' || line.type === 'leaf' || line.type === 'comment' ? line.type : 'other';
	return {kind: 'graph', type, cpu: line.cpu, func: line.func, durationUs: line.durationUs, text};
}

/** Replay a recorded trace through the tracefs text reader (for cores without a replay option). */
export async function * readerReplay(path: string, signal: AbortSignal, as: 'rows' | 'graph'): AsyncGenerator<Feed> {
	yield {kind: 'start', mode: 'replay', mechanism: `recorded trace ${path.split('/').at(-1) ?? path} (tracefs text reader)`};
	for await (const record of readTraceTextFile(path, {progress: replayProgress(path)})) {
		if (signal.aborted) {
			return;
		}

		if (record.kind === 'lost') {
			yield {kind: 'lost', count: record.count};
		} else if (as === 'graph' && record.kind === 'graph') {
			const type = record.type === 'entry' || record.type === 'exit' || record.type === 'leaf' || record.type === 'comment' ? record.type : 'other';
			yield {kind: 'graph', type, cpu: record.cpu, func: record.func, durationUs: record.durationUs};
		} else if (as === 'rows' && record.kind === 'event') {
			yield {kind: 'row', cells: {time: record.timestamp.toFixed(6), comm: record.comm, pid: String(record.pid), event: record.event, body: record.body ?? fieldsText(record.fields)}, detail: {cpu: record.cpu, ...record.fields}};
		} else if (as === 'rows' && record.kind === 'function') {
			yield {kind: 'row', cells: {time: record.timestamp.toFixed(6), comm: record.comm, pid: String(record.pid), body: `${record.func}${record.parent ? ` <-${record.parent}` : ''}`}, detail: {cpu: record.cpu}};
		}
	}
}

export function fieldsText(fields: Readonly<Record<string, unknown>>): string {
	return Object.entries(fields).map(([name, value]) => `${name}=${typeof value === 'bigint' ? value.toString() : String(value)}`).join(' ');
}

/**
 * A tool whose core is not in this build yet can still replay recorded
 * traces: the tracefs reader decodes them (events as rows, graph lines as a
 * call tree). Live runs say the core is missing.
 */
export function replayOnly(tool: string, as: 'rows' | 'graph'): CoreBinding {
	return {
		replayOnly: true,
		check(_values, replay) {
			if (replay === undefined) {
				throw new Error(`the ${tool} core is not in this build yet: only replays work`);
			}
		},
		async * run(_values, {signal, replay}) {
			if (replay === undefined) {
				throw new Error(`the ${tool} core is not in this build yet`);
			}

			yield * readerReplay(replay, signal, as);
		},
	};
}

export function probeBinding(kind: ProbeKind): CoreBinding {
	const options = (values: FormValues, signal?: AbortSignal) => ({
		definition: text(values, 'definition') ?? '',
		filter: text(values, 'filter'),
		pid: numeric(values, 'pid'),
		tid: numeric(values, 'tid'),
		durationSec: numeric(values, 'duration'),
		stacks: flag(values, 'stacks'),
		signal,
	});
	return {
		check(values) {
			// The core validates when it starts; the form checks what it can without the kernel.
			const definition = text(values, 'definition');
			if (definition) {
				validateProbeDefinition(parseProbeDefinition(definition, kind));
			}
		},
		async * run(values, context) {
			if (context.replay !== undefined) {
				yield * readerReplay(context.replay, context.signal, 'rows');
				return;
			}

			const records: AsyncIterable<ProbeTraceRecord> = kind === 'uprobe' ? uprobe(options(values, context.signal)) : probeTrace(kind, options(values, context.signal));
			for await (const record of records) {
				if (record.kind === 'start') {
					yield {kind: 'start', mode: values['duration'] ? 'buffered' : 'live', mechanism: `${record.probe.system}:${record.probe.event} = ${record.command}`};
				} else if (record.kind === 'lost') {
					yield {kind: 'lost', count: record.count};
				} else if (record.kind === 'line' && !record.header) {
					const row = lineRow(record.text);
					if (row) {
						yield row;
					}
				}
			}
		},
	};
}
