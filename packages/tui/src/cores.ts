/**
 * The tool cores bound to the TUI: how form values become a core's options
 * (validated by the core's own check function, as the CLI validates them),
 * and how its records become view feeds. A tool whose core has not landed in
 * @ftrace-ts/tools has no binding and is shown as not available yet.
 */
import {parseProbeDefinition, parseTraceLine, validateProbeDefinition, type ProbeKind} from '@ftrace-ts/tracefs';
import {probeTrace, uprobe, type ProbeTraceRecord} from '@ftrace-ts/tools';
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

function probeBinding(kind: ProbeKind): CoreBinding {
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
				throw new Error(`${kind} cannot replay recorded traces yet`);
			}

			const records: AsyncIterable<ProbeTraceRecord> = kind === 'uprobe' ? uprobe(options(values, context.signal)) : probeTrace(kind, options(values, context.signal));
			for await (const record of records) {
				if (record.kind === 'start') {
					yield {kind: 'start', mode: values['duration'] ? 'buffered' : 'live', mechanism: `${record.probe.system}:${record.probe.event} = ${record.command}`};
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

export const coreBindings: Readonly<Record<string, CoreBinding>> = {
	kprobe: probeBinding('kprobe'),
	uprobe: probeBinding('uprobe'),
};
