/**
 * The perf-tools ports' cores, bound as they land: those @ftrace-ts/tools
 * exports are imported; the rest (and check functions) are looked up on
 * @ftrace-ts/tools' namespace: a core that is not exported yet is simply
 * absent (the tool then replays recorded traces only, through the tracefs
 * reader), and one that is exported is used with no change here. The shapes
 * below mirror the cores' documented option and record types.
 */
import * as tools from '@ftrace-ts/tools';
import {checkIosnoopOptions, execsnoop, funccount, funcgraph, funcslower, functrace, iolatency, iosnoop, opensnoop, tpoint} from '@ftrace-ts/tools';
import {parseEventId, validateFunctionGlob} from '@ftrace-ts/tracefs';
import {checkCommonOptions, fieldsText, flag, graphLine, lineRow, numeric, readerReplay, text, type CoreBinding, type FormValues} from './cores.js';
import type {Feed} from './feed.js';

type Mode = 'live' | 'buffered' | 'replay';
type Start = {readonly type: 'start'; readonly mode: Mode; readonly mechanism: string; readonly limitation?: string | undefined};
type Lost = {readonly type: 'lost'; readonly count: number | undefined};
type Core<O, R> = (options: O, signal?: AbortSignal) => AsyncIterable<Start | Lost | R>;
type Line = {readonly kind: 'line'; readonly text: string; readonly header: boolean} | {readonly kind: 'lost'; readonly count: number | undefined; readonly cpu: number};

interface IosnoopOptions {readonly queue?: boolean | undefined; readonly device?: string | undefined; readonly iotype?: string | undefined; readonly pid?: number | undefined; readonly name?: string | undefined; readonly durationSeconds?: number | undefined; readonly replay?: string | undefined}
interface IolatencyOptions {readonly queue?: boolean | undefined; readonly device?: string | undefined; readonly iotype?: string | undefined; readonly intervalSeconds?: number | undefined; readonly replay?: string | undefined}
interface OpensnoopOptions {readonly pid?: number | undefined; readonly tid?: number | undefined; readonly name?: string | undefined; readonly filename?: string | undefined; readonly failedOnly?: boolean | undefined; readonly durationSeconds?: number | undefined; readonly replay?: string | undefined}
interface ExecsnoopOptions {readonly argc?: number | undefined; readonly reexec?: boolean | undefined; readonly name?: string | undefined; readonly durationSeconds?: number | undefined; readonly replay?: string | undefined}
interface TpointOptions {readonly tracepoint: string; readonly filter?: string | undefined; readonly pid?: number | undefined; readonly tid?: number | undefined; readonly stacks?: boolean | undefined; readonly durationSeconds?: number | undefined; readonly replay?: string | undefined; readonly decoded?: boolean | undefined}
interface FunctionOptions {readonly patterns: readonly string[]; readonly pid?: number | undefined; readonly tid?: number | undefined; readonly durationSec?: number | undefined; readonly signal?: AbortSignal | undefined}

/** The cores' exports this module uses, each optional until it lands. */
interface LandedExports {
	iosnoop: Core<IosnoopOptions, {readonly type: 'io'; readonly comm: string; readonly pid: number; readonly rwbs: string; readonly dev: string; readonly sector: number; readonly bytes: number; readonly latencyMs: number}>;
	checkIosnoopOptions: (options: IosnoopOptions) => unknown;
	iolatency: Core<IolatencyOptions, {readonly type: 'summary'; readonly time: string; readonly buckets: ReadonlyArray<{readonly fromMs: number; readonly toMs: number; readonly count: number}>}>;
	checkIolatencyOptions: (options: IolatencyOptions) => unknown;
	opensnoop: Core<OpensnoopOptions, {readonly type: 'open'; readonly comm: string; readonly pid: number; readonly fd: number; readonly file: string | undefined}>;
	checkOpensnoopOptions: (options: OpensnoopOptions) => unknown;
	execsnoop: Core<ExecsnoopOptions, {readonly type: 'exec'; readonly time: string; readonly pid: number; readonly ppid: number; readonly comm: string; readonly filename: string | undefined; readonly args: readonly string[] | undefined; readonly truncated: boolean}>;
	checkExecsnoopOptions: (options: ExecsnoopOptions) => unknown;
	tpoint: Core<TpointOptions, {readonly type: 'line'; readonly text: string} | {readonly type: 'event'; readonly time: number; readonly cpu: number; readonly pid: number; readonly comm: string; readonly event: string; readonly fields: Readonly<Record<string, unknown>>; readonly stack?: readonly string[] | undefined}>;
	checkTpointOptions: (options: TpointOptions) => unknown;
	funccount: (options: {readonly patterns: readonly string[]; readonly intervalSec?: number | undefined; readonly durationSec?: number | undefined; readonly top?: number | undefined; readonly signal?: AbortSignal | undefined}) => AsyncIterable<
		| {readonly kind: 'start'; readonly mechanism: string; readonly counted: number; readonly capped: number; readonly skipped: ReadonlyArray<{readonly func: string; readonly reason: string}>}
		| {readonly kind: 'note'; readonly text: string}
		| {readonly kind: 'summary'; readonly time: string; readonly counts: ReadonlyArray<{readonly func: string; readonly count: number; readonly pid?: number | undefined; readonly comm?: string | undefined}>}>;
	funcgraph: (options: FunctionOptions & {readonly maxDepth?: number | undefined}) => AsyncIterable<{readonly kind: 'start'; readonly functions: number} | {readonly kind: 'note'; readonly text: string} | Line>;
	functrace: (options: FunctionOptions) => AsyncIterable<{readonly kind: 'start'; readonly functions: number} | Line>;
	funcslower: (options: FunctionOptions & {readonly latencyUs: number}) => AsyncIterable<{readonly kind: 'start'; readonly functions: number} | {readonly kind: 'note'; readonly text: string} | Line>;
}

// Landed and exported: bound statically, so the compiler checks them against the shapes above.
// The check functions not exported yet (iolatency, tpoint, opensnoop, execsnoop) are picked up when they are.
const exported: Partial<LandedExports> = {...tools as unknown as Partial<LandedExports>, iosnoop, checkIosnoopOptions, iolatency, opensnoop, execsnoop, tpoint, funccount, funcgraph, functrace, funcslower};

function startFeed(record: {readonly mode: 'live' | 'buffered' | 'replay'; readonly mechanism: string; readonly limitation?: string | undefined}): Feed {
	return {kind: 'start', mode: record.mode, mechanism: record.mechanism, limitation: record.limitation};
}

const iosnoopOptions = (values: FormValues, replay?: string): IosnoopOptions => ({
	queue: flag(values, 'queue'), device: text(values, 'device'), iotype: text(values, 'iotype'),
	pid: numeric(values, 'pid'), name: text(values, 'name'), durationSeconds: numeric(values, 'duration'), replay,
});

const iolatencyOptions = (values: FormValues, replay?: string): IolatencyOptions => ({
	queue: flag(values, 'queue'), device: text(values, 'device'), iotype: text(values, 'iotype'),
	intervalSeconds: numeric(values, 'interval') ?? (replay === undefined ? 1 : undefined), replay,
});

const opensnoopOptions = (values: FormValues, replay?: string): OpensnoopOptions => ({
	pid: numeric(values, 'pid'), tid: numeric(values, 'tid'), name: text(values, 'name'), filename: text(values, 'file'),
	failedOnly: flag(values, 'failed'), durationSeconds: numeric(values, 'duration'), replay,
});

const execsnoopOptions = (values: FormValues, replay?: string): ExecsnoopOptions => ({
	argc: numeric(values, 'maxArgs'), reexec: flag(values, 'reexec'), name: text(values, 'name'), durationSeconds: numeric(values, 'duration'), replay,
});

const tpointOptions = (values: FormValues, replay?: string): TpointOptions => ({
	tracepoint: text(values, 'tracepoint') ?? '', filter: text(values, 'filter'), pid: numeric(values, 'pid'), tid: numeric(values, 'tid'),
	stacks: flag(values, 'stacks'), durationSeconds: numeric(values, 'duration'), replay, decoded: true,
});

function patterns(values: FormValues, key = 'funcstring'): string[] {
	return (text(values, key) ?? '').split(/\s+/).filter(Boolean);
}

function checkPatterns(values: FormValues): void {
	checkCommonOptions(values);
	for (const pattern of patterns(values)) {
		if (!pattern.includes(':')) {
			validateFunctionGlob(pattern, 'function pattern');
		}
	}
}

function lineFeeds(record: {readonly kind: string; readonly text?: string; readonly header?: boolean; readonly count?: number | undefined}, as: 'rows' | 'graph'): Feed | undefined {
	if (record.kind === 'lost') {
		return {kind: 'lost', count: record.count};
	}

	if (record.kind !== 'line' || record.header || record.text === undefined) {
		return undefined;
	}

	return as === 'graph' ? graphLine(record.text) : lineRow(record.text);
}

/** Bindings of the cores exported by @ftrace-ts/tools now, by tool name. */
export function landedBindings(from: Partial<LandedExports> = exported): Record<string, CoreBinding> {
	const {iosnoop, checkIosnoopOptions, iolatency, checkIolatencyOptions, opensnoop, checkOpensnoopOptions, execsnoop, checkExecsnoopOptions, tpoint, checkTpointOptions, funccount, funcgraph, functrace, funcslower} = from;
	const landed: Record<string, CoreBinding | undefined> = {
	iosnoop: iosnoop && checkIosnoopOptions && {
		check: (values, replay) => void checkIosnoopOptions(iosnoopOptions(values, replay)),
		async * run(values, {signal, replay}) {
			for await (const record of iosnoop(iosnoopOptions(values, replay), signal)) {
				if (record.type === 'start') {
					yield startFeed(record);
				} else if (record.type === 'lost') {
					yield {kind: 'lost', count: record.count};
				} else {
					yield {
						kind: 'row',
						cells: {comm: record.comm, pid: String(record.pid), type: record.rwbs, dev: record.dev, block: String(record.sector), bytes: String(record.bytes), latms: record.latencyMs.toFixed(2)},
						detail: {...record},
					};
				}
			}
		},
	},
	iolatency: iolatency && {
		check: (values, replay) => void (checkIolatencyOptions ?? (() => checkCommonOptions(values)))(iolatencyOptions(values, replay)),
		async * run(values, {signal, replay}) {
			for await (const record of iolatency(iolatencyOptions(values, replay), signal)) {
				if (record.type === 'start') {
					yield startFeed(record);
				} else if (record.type === 'lost') {
					yield {kind: 'lost', count: record.count};
				} else {
					yield {kind: 'histogram', title: '>=(ms) .. <(ms)', at: record.time, buckets: record.buckets.map(bucket => ({label: `${bucket.fromMs} -> ${bucket.toMs}`, count: bucket.count}))};
				}
			}
		},
	},
	opensnoop: opensnoop && {
		check: (values, replay) => void (checkOpensnoopOptions ?? (() => checkCommonOptions(values)))(opensnoopOptions(values, replay)),
		async * run(values, {signal, replay}) {
			for await (const record of opensnoop(opensnoopOptions(values, replay), signal)) {
				if (record.type === 'start') {
					yield startFeed(record);
				} else if (record.type === 'lost') {
					yield {kind: 'lost', count: record.count};
				} else {
					yield {kind: 'row', cells: {comm: record.comm, pid: String(record.pid), fd: String(record.fd), file: record.file ?? '[?]'}, detail: {...record}};
				}
			}
		},
	},
	execsnoop: execsnoop && {
		check: (values, replay) => void (checkExecsnoopOptions ?? (() => checkCommonOptions(values)))(execsnoopOptions(values, replay)),
		async * run(values, {signal, replay}) {
			for await (const record of execsnoop(execsnoopOptions(values, replay), signal)) {
				if (record.type === 'start') {
					yield startFeed(record);
				} else if (record.type === 'lost') {
					yield {kind: 'lost', count: record.count};
				} else {
					const args = record.args ? `${record.args.join(' ')}${record.truncated ? ' [...]' : ''}` : record.filename ?? record.comm;
					yield {kind: 'row', cells: {time: record.time, pid: String(record.pid), ppid: String(record.ppid), args}, detail: {...record}};
				}
			}
		},
	},
	tpoint: tpoint && {
		check(values, replay) {
			if (checkTpointOptions) {
				checkTpointOptions(tpointOptions(values, replay));
				return;
			}

			checkCommonOptions(values);
			parseEventId(text(values, 'tracepoint') ?? '');
		},
		async * run(values, {signal, replay}) {
			for await (const record of tpoint(tpointOptions(values, replay), signal)) {
				if (record.type === 'start') {
					yield startFeed(record);
				} else if (record.type === 'lost') {
					yield {kind: 'lost', count: record.count};
				} else if (record.type === 'event') {
					yield {kind: 'row', cells: {time: record.time.toFixed(6), comm: record.comm, pid: String(record.pid), event: record.event, body: fieldsText(record.fields)}, detail: {cpu: record.cpu, ...record.fields, ...(record.stack ? {stack: record.stack.join(' <- ')} : {})}};
				} else {
					const row = lineRow(record.text);
					if (row) {
						yield row;
					}
				}
			}
		},
	},
	funccount: funccount && {
		check: values => checkPatterns(values),
		async * run(values, {signal, replay}) {
			if (replay !== undefined) {
				throw new Error('funccount counts in the kernel: there is nothing to replay');
			}

			for await (const record of funccount({patterns: patterns(values), intervalSec: numeric(values, 'interval') ?? 1, durationSec: numeric(values, 'duration'), top: numeric(values, 'top'), signal})) {
				if (record.kind === 'start') {
					yield {kind: 'start', mode: 'live', mechanism: `${record.mechanism}: ${record.counted} counted${record.capped ? `, ${record.capped} capped` : ''}`, limitation: record.skipped.length > 0 ? `${record.skipped.length} skipped, eg ${record.skipped[0]!.func}: ${record.skipped[0]!.reason}` : undefined};
				} else if (record.kind === 'summary') {
					yield {kind: 'counts', at: record.time, rows: record.counts.map(count => ({key: count.comm ? `${count.func} ${count.comm}-${count.pid ?? ''}` : count.func, count: count.count}))};
				}
			}
		},
	},
	funcgraph: funcgraph && {
		check: values => checkPatterns(values),
		async * run(values, {signal, replay}) {
			if (replay !== undefined) {
				yield * readerReplay(replay, signal, 'graph');
				return;
			}

			for await (const record of funcgraph({patterns: patterns(values), maxDepth: numeric(values, 'maxdepth'), pid: numeric(values, 'pid'), tid: numeric(values, 'tid'), durationSec: numeric(values, 'duration'), signal})) {
				if (record.kind === 'start') {
					yield {kind: 'start', mode: values['duration'] ? 'buffered' : 'live', mechanism: `function_graph on ${record.functions} functions`};
				} else {
					const feed = lineFeeds(record, 'graph');
					if (feed) {
						yield feed;
					}
				}
			}
		},
	},
	functrace: functrace && {
		check: values => checkPatterns(values),
		async * run(values, {signal, replay}) {
			if (replay !== undefined) {
				yield * readerReplay(replay, signal, 'rows');
				return;
			}

			for await (const record of functrace({patterns: patterns(values), pid: numeric(values, 'pid'), tid: numeric(values, 'tid'), durationSec: numeric(values, 'duration'), signal})) {
				if (record.kind === 'start') {
					yield {kind: 'start', mode: values['duration'] ? 'buffered' : 'live', mechanism: `function tracer on ${record.functions} functions`};
				} else {
					const feed = lineFeeds(record, 'rows');
					if (feed) {
						yield feed;
					}
				}
			}
		},
	},
	funcslower: funcslower && {
		check(values) {
			checkPatterns(values);
			const latency = text(values, 'latency');
			if (latency !== undefined && !/^\d+$/.test(latency)) {
				throw new Error(`latency_us must be a whole number of microseconds, got "${latency}"`);
			}
		},
		async * run(values, {signal, replay}) {
			if (replay !== undefined) {
				yield * readerReplay(replay, signal, 'rows');
				return;
			}

			for await (const record of funcslower({patterns: patterns(values), latencyUs: Number(text(values, 'latency')), pid: numeric(values, 'pid'), tid: numeric(values, 'tid'), durationSec: numeric(values, 'duration'), signal})) {
				if (record.kind === 'start') {
					yield {kind: 'start', mode: values['duration'] ? 'buffered' : 'live', mechanism: `function_graph with tracing_thresh on ${record.functions} functions`};
				} else {
					const feed = lineFeeds(record, 'rows');
					if (feed) {
						yield feed;
					}
				}
			}
		},
	},
};
	return Object.fromEntries(Object.entries(landed).filter((entry): entry is [string, CoreBinding] => entry[1] !== undefined));
}
