/**
 * The text reader: `trace` and `trace_pipe` of any instance, or a recorded
 * text dump, as typed records. The common prefix (comm-pid, tgid, [cpu],
 * irq-info flags, timestamp) is parsed by its shape; the event body by the
 * event's own print fmt, so fields come by name whatever the kernel version.
 */
import {createReadStream} from 'node:fs';
import {open, stat, type FileHandle} from 'node:fs/promises';
import {constants as fsConstants} from 'node:fs';
import {StringDecoder} from 'node:string_decoder';
import {setTimeout as sleep} from 'node:timers/promises';
import {TracefsError, errnoCode} from './errors.js';
import type {EventFormat} from './format.js';
import {FormatCache} from './format-cache.js';
import type {Instance} from './instance.js';
import {fitToField, looseValue, splitKeyValues, type DecodedFields} from './print-format.js';
import {normalizeInteger, type FieldValue, type GraphLine, type LostEvents, type RecordContext, type StackTrace, type TraceEvent, type TraceRecord} from './trace-record.js';
import {readAllCpuStats, type CpuStats} from './cpu-stats.js';

// `s`: a line is split at \n only, and its comm and body may hold \r, U+2028 or U+2029 (a string the kernel printed as it found it).
const prefixPattern = /^ *(\S.*?)-(\d+)\s+(?:\(\s*(\d+|-+)\)\s+)?\[(\d+)\]\s+(?:([.a-zA-Z0-9]{4,5})\s+)?(\d+)(?:\.(\d+))?:\s(.*)$/s;
const lostPattern = /^CPU:(\d+) \[LOST (?:(\d+) )?EVENTS\]/;
/** In a `trace` dump, a CPU whose buffer overflowed starts later than the others: a gap. */
const bufferStartedPattern = /^##### CPU (\d+) buffer started ####/;
const graphPattern = /^\s*(?:(\d+)\.(\d+)\s*\|\s*)?(\d+)\)(.*)$/;
const eventBodyPattern = /^([A-Za-z_][\w.]*): ?([\s\S]*)$/;
const syscallEnterPattern = /^sys_(\w+)\(([\s\S]*)\)$/;
const syscallExitPattern = /^sys_(\w+) -> (\S+)$/;
const functionPattern = /^([^\s(]+)(?:\(([\s\S]*)\))?(?: <-(\S+))?$/;

/** A line's parse before its body is decoded (the event's format may still have to be loaded). */
export type ParsedLine =
	| {readonly kind: 'skip'}
	| {readonly kind: 'frame'; readonly text: string}
	| {readonly kind: 'body'; readonly context: RecordContext; readonly body: string; readonly formatName: string | undefined}
	| {readonly kind: 'record'; readonly record: TraceRecord};

const skip = {kind: 'skip'} as const;

function timestampOf(whole: string, fraction: string | undefined): {timestamp: number; timestampNs: bigint} {
	if (fraction === undefined) {
		// Counter clocks print a bare integer: keep it as is.
		const counter = BigInt(whole);
		return {timestamp: Number(counter), timestampNs: counter};
	}

	const digits = fraction.length >= 9 ? fraction.slice(0, 9) : fraction.padEnd(9, '0');
	const ns = BigInt(whole + digits);
	return {timestamp: Number(`${whole}.${fraction}`), timestampNs: ns};
}

/**
 * Parse one line of `trace` / `trace_pipe` output (no trailing newline).
 * Header comments, blank lines and graph separators are 'skip'; stack
 * frames are 'frame'; event lines come back as 'body' for the caller to
 * decode with decodeBody once it has the format. Never throws.
 */
export function parseTraceLine(line: string): ParsedLine {
	const started = bufferStartedPattern.exec(line);
	if (started) {
		const record: LostEvents = {kind: 'lost', cpu: Number(started[1]), count: undefined, source: 'text'};
		return {kind: 'record', record};
	}

	if (line === '' || line.startsWith('#')) {
		return skip;
	}

	if (line.startsWith(' => ')) {
		return {kind: 'frame', text: line.slice(4).trim()};
	}

	const lost = lostPattern.exec(line);
	if (lost) {
		const record: LostEvents = {kind: 'lost', cpu: Number(lost[1]), count: lost[2] === undefined ? undefined : Number(lost[2]), source: 'text'};
		return {kind: 'record', record};
	}

	const prefix = prefixPattern.exec(line);
	if (prefix) {
		const {timestamp, timestampNs} = timestampOf(prefix[6]!, prefix[7]);
		const tgid = prefix[3] !== undefined && /^\d+$/.test(prefix[3]) ? Number(prefix[3]) : undefined;
		const context: RecordContext = {
			cpu: Number(prefix[4]),
			timestamp,
			timestampNs,
			pid: Number(prefix[2]),
			comm: prefix[1]!,
			...(tgid === undefined ? {} : {tgid}),
			...(prefix[5] === undefined ? {} : {flags: prefix[5]}),
		};
		return classifyBody(context, prefix[8]!);
	}

	if (/^\s*-{10,}\s*$/.test(line) || line.trim() === '') {
		return skip;
	}

	const graph = graphPattern.exec(line);
	if (graph) {
		const record = parseGraphRest(graph);
		return record ? {kind: 'record', record} : skip;
	}

	return skip;
}

function classifyBody(context: RecordContext, body: string): ParsedLine {
	if (body === '<stack trace>' || body === '<user stack trace>') {
		const record: StackTrace = {kind: 'stack', ...context, user: body !== '<stack trace>', frames: []};
		return {kind: 'record', record};
	}

	const event = eventBodyPattern.exec(body);
	if (event) {
		return {kind: 'body', context, body: event[2]!, formatName: event[1]!};
	}

	// Syscall events have their own output: "sys_openat(dfd: 0x.., ...)" and "sys_openat -> 0x3".
	const enter = syscallEnterPattern.exec(body);
	if (enter) {
		return {kind: 'body', context, body, formatName: `sys_enter_${enter[1]!}`};
	}

	const exit = syscallExitPattern.exec(body);
	if (exit) {
		return {kind: 'body', context, body, formatName: `sys_exit_${exit[1]!}`};
	}

	const call = functionPattern.exec(body);
	if (call) {
		return {
			kind: 'record',
			record: {
				kind: 'function', ...context, func: call[1]!,
				...(call[3] === undefined ? {} : {parent: call[3]}),
				...(call[2] === undefined ? {} : {args: call[2]}),
			},
		};
	}

	return {kind: 'body', context, body, formatName: undefined};
}

/**
 * Decode an event body with its format (or best effort without one) into a
 * TraceEvent. `formats` supplies the compiled print fmt decoder.
 */
export function decodeBody(context: RecordContext, formatName: string | undefined, body: string, format: EventFormat | undefined, formats: FormatCache | undefined): TraceEvent {
	const event = formatName ?? '';
	// One object shape for every event (no spreads): the hot path of text decoding.
	const make = (fields: DecodedFields, decoded: boolean): TraceEvent => ({
		kind: 'event',
		cpu: context.cpu,
		timestamp: context.timestamp,
		timestampNs: context.timestampNs,
		pid: context.pid,
		tgid: context.tgid,
		comm: context.comm,
		flags: context.flags,
		system: format?.system,
		event,
		fields,
		decoded,
		body,
	});
	if (format && event.startsWith('sys_enter_') && syscallEnterPattern.test(body)) {
		return make(syscallFields(body.slice(body.indexOf('(') + 1, -1), format), true);
	}

	if (format && event.startsWith('sys_exit_')) {
		const exit = syscallExitPattern.exec(body);
		if (exit) {
			const text = exit[2]!;
			const value = /^-?\d+$/.test(text) ? BigInt(text) : /^0x[0-9a-fA-F]+$/.test(text) ? BigInt(text) : undefined;
			const ret = format.byName.get('ret');
			return make({ret: value === undefined ? text : normalizeInteger(fitToField(value, ret))}, value !== undefined);
		}
	}

	if (format && formats) {
		const fields = formats.decoder(format).decode(body);
		if (fields) {
			return make(fields, true);
		}
	}

	return make(splitKeyValues(body), false);
}

function syscallFields(inside: string, format: EventFormat): DecodedFields {
	const fields: DecodedFields = {};
	for (const part of inside.split(', ')) {
		const colon = part.indexOf(': ');
		if (colon <= 0) {
			continue;
		}

		const name = part.slice(0, colon);
		const text = part.slice(colon + 2);
		// Printed with %#lx: "0" has no 0x prefix.
		const hex = /^(?:0x)?([0-9a-fA-F]+)$/.exec(text);
		fields[name] = hex ? normalizeInteger(fitToField(BigInt(`0x${hex[1]!}`), format.byName.get(name))) : looseValue(text);
	}

	return fields;
}

const durationPattern = /^\s*([+!#*@$])?\s*(\d+(?:\.\d+)?)\s*us\s*$/;
const procPattern = /^\s*(\S.*?)-(\d+)\s*$/;
const flagsColumnPattern = /^\s*[.a-zA-Z0-9]{4,5}\s*$/;

function parseGraphRest(match: RegExpExecArray): GraphLine | undefined {
	const cpu = Number(match[3]);
	const time = match[1] === undefined ? undefined : timestampOf(match[1], match[2]);
	const base = {kind: 'graph' as const, cpu, ...(time ?? {})};
	let rest = match[4]!;

	const switchLine = /^\s*(\S.*?-\d+)\s+=>\s+(\S.*?-\d+)\s*$/.exec(rest);
	if (switchLine) {
		return {...base, type: 'switch', depth: 0, from: switchLine[1]!, to: switchLine[2]!};
	}

	if (/^\s*==========>/.test(rest)) {
		return {...base, type: 'irq-entry', depth: 0};
	}

	if (/^\s*<==========/.test(rest)) {
		return {...base, type: 'irq-exit', depth: 0};
	}

	let pid: number | undefined;
	let comm: string | undefined;
	let marker: string | undefined;
	let durationUs: number | undefined;
	// Columns before the body, each ending in '|': proc, latency flags, duration.
	for (let guard = 0; guard < 3; guard++) {
		const bar = rest.indexOf('|');
		if (bar === -1) {
			break;
		}

		const column = rest.slice(0, bar);
		const duration = durationPattern.exec(column);
		if (duration || column.trim() === '') {
			marker = duration?.[1];
			durationUs = duration ? Number(duration[2]) : undefined;
			rest = rest.slice(bar + 1);
			break;
		}

		const proc = procPattern.exec(column);
		if (proc && pid === undefined) {
			comm = proc[1]!;
			pid = Number(proc[2]);
		} else if (!flagsColumnPattern.test(column)) {
			break;
		}

		rest = rest.slice(bar + 1);
	}

	const indent = /^ */.exec(rest)![0].length;
	const depth = Math.max(0, Math.floor((indent - 2) / 2));
	const text = rest.trim();
	const context = {
		...base, depth,
		...(pid === undefined ? {} : {pid, comm}),
		...(durationUs === undefined ? {} : {durationUs}),
		...(marker === undefined ? {} : {marker}),
	};

	if (text.startsWith('/*')) {
		return {...context, type: 'comment', comment: text.replace(/^\/\*\s*/, '').replace(/\s*\*\/$/, '')};
	}

	if (text.startsWith('}')) {
		const tail = /\/\*\s*(.*?)\s*\*\//.exec(text)?.[1];
		// funcgraph-retval prints "} /* f = 0x0 */".
		const named = tail === undefined ? undefined : /^(\S+?)(?:\s*(=.*))?$/.exec(tail);
		return {
			...context, type: 'exit',
			...(named ? {func: named[1]!} : {}),
			...(named?.[2] === undefined ? {} : {comment: named[2]}),
		};
	}

	const call = /^(\S+?)\((.*)\)\s*([{;])(.*)$/.exec(text);
	if (call) {
		const trailing = /\/\*\s*(.*?)\s*\*\//.exec(call[4]!)?.[1];
		return {...context, type: call[3] === '{' ? 'entry' : 'leaf', func: call[1]!, ...(trailing === undefined ? {} : {comment: trailing})};
	}

	return undefined;
}

/** Options of the text readers. */
export interface TextReaderOptions {
	/**
	 * Event formats. From an instance, the default is a FormatCache loading
	 * that instance's formats lazily; for files and strings there is no
	 * default and every event decodes best effort (key=value) unless given.
	 */
	readonly formats?: FormatCache | undefined;
	/** Stops reading; the iterator then ends normally (no throw). */
	readonly signal?: AbortSignal | undefined;
	/**
	 * Files only: called as the reading goes, with the bytes decoded so far
	 * and the file's size (of the range, for a range), for long work to show
	 * progress.
	 */
	readonly progress?: FileProgress | undefined;
}

/** Bytes of a file done so far, and of how many. */
export type FileProgress = (done: number, total: number) => void;

/**
 * The chunks of `source` as they are, calling `progress` with the bytes
 * done each time the consumer asks for the next (it has dealt with the
 * one before), and with all of `total` at the end. Without `progress`,
 * `source` itself.
 */
export function withProgress<T extends Uint8Array | string>(source: AsyncIterable<T>, total: number, progress: FileProgress | undefined): AsyncIterable<T> {
	if (!progress) {
		return source;
	}

	return (async function * () {
		let done = 0;
		for await (const chunk of source) {
			yield chunk;
			done += chunk.length;
			progress(Math.min(done, total), total);
		}

		// All of it (a range's ends move to line starts; a file may have changed size).
		if (done !== total) {
			progress(total, total);
		}
	})();
}

/** Incremental decoder: feed lines, get records. Attaches stack frames to the event before them. */
export class TraceTextDecoder {
	#pending: TraceEvent | StackTrace | undefined;
	#stack: {readonly target: TraceEvent | StackTrace; readonly user: boolean} | undefined;
	readonly #tried = new Set<string>();

	constructor(readonly formats: FormatCache | undefined) {}

	/** The format name a parsed line needs loaded first, if it is not loaded and was not tried. */
	missingFormat(parsed: ParsedLine): string | undefined {
		if (parsed.kind !== 'body' || parsed.formatName === undefined || !this.formats?.instance) {
			return undefined;
		}

		if (this.formats.byName(parsed.formatName) || this.#tried.has(parsed.formatName)) {
			return undefined;
		}

		this.#tried.add(parsed.formatName);
		return parsed.formatName;
	}

	/** Accept a parsed line; returns the records now complete, in order. */
	accept(parsed: ParsedLine): TraceRecord[] {
		switch (parsed.kind) {
			case 'skip': {
				return [];
			}

			case 'frame': {
				if (this.#stack) {
					const target = this.#stack.target;
					if (target.kind === 'stack') {
						target.frames.push(parsed.text);
					} else if (this.#stack.user) {
						(target.userStack ??= []).push(parsed.text);
					} else {
						(target.stack ??= []).push(parsed.text);
					}
				}

				return [];
			}

			case 'record': {
				const {record} = parsed;
				if (record.kind === 'stack') {
					const pending = this.#pending;
					if (pending?.kind === 'event' && pending.cpu === record.cpu && pending.pid === record.pid) {
						this.#stack = {target: pending, user: record.user};
						if (record.user) {
							pending.userStack ??= [];
						} else {
							pending.stack ??= [];
						}

						return [];
					}

					// An orphan stack: held like an event until its frames are in.
					const out = this.flush();
					this.#pending = record;
					this.#stack = {target: record, user: record.user};
					return out;
				}

				return [...this.flush(), record];
			}

			case 'body': {
				const format = parsed.formatName === undefined ? undefined : this.formats?.byName(parsed.formatName);
				const event = decodeBody(parsed.context, parsed.formatName, parsed.body, format, this.formats);
				const out = this.flush();
				this.#pending = event;
				return out;
			}

			default: {
				return [];
			}
		}
	}

	/**
	 * Take an event line decoded elsewhere (the fast path) as accept() would
	 * have: it is held for a possible stack trace. Returns the record it
	 * completes, if any.
	 */
	hold(event: TraceEvent): TraceEvent | StackTrace | undefined {
		const pending = this.#pending;
		this.#pending = event;
		this.#stack = undefined;
		return pending;
	}

	/** Release the event held back for a possible stack trace. */
	flush(): TraceRecord[] {
		const pending = this.#pending;
		this.#pending = undefined;
		this.#stack = undefined;
		return pending ? [pending] : [];
	}
}

/** A chunk source that may report "nothing more for now" (live pipes) with `undefined`. */
type ChunkSource = AsyncIterable<string | Uint8Array | undefined>;

async function * decodeChunks(source: ChunkSource, options: TextReaderOptions, onIdle?: () => void | Promise<void>): AsyncGenerator<TraceRecord> {
	const decoder = new TraceTextDecoder(options.formats);
	const text = new StringDecoder('utf8');
	let partial = '';
	for await (const chunk of source) {
		if (options.signal?.aborted) {
			break;
		}

		if (chunk === undefined) {
			// The live source is idle: an event held for its stack trace is complete.
			yield * decoder.flush();
			// eslint-disable-next-line no-await-in-loop
			await onIdle?.();
			continue;
		}

		const data = partial + (typeof chunk === 'string' ? chunk : text.write(chunk as Buffer));
		const lines = data.split('\n');
		partial = lines.pop() ?? '';
		for (const raw of lines) {
			const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
			const parsed = parseTraceLine(line);
			const missing = decoder.missingFormat(parsed);
			if (missing !== undefined) {
				// eslint-disable-next-line no-await-in-loop
				await options.formats!.load(missing).catch(() => undefined);
			}

			yield * decoder.accept(parsed);
		}
	}

	const last = partial + text.end();
	if (last !== '' && !options.signal?.aborted) {
		const parsed = parseTraceLine(last);
		const missing = decoder.missingFormat(parsed);
		if (missing !== undefined) {
			await options.formats!.load(missing).catch(() => undefined);
		}

		yield * decoder.accept(parsed);
	}

	yield * decoder.flush();
}

/**
 * Decode trace text: a whole string, lines, or a stream of chunks (a
 * Readable, an async iterable of strings or bytes). Yields records in input
 * order; an event is yielded once the next line shows whether a stack trace
 * follows it. Never throws for malformed lines (they are skipped or decoded
 * best effort); rethrows errors of the source.
 */
export async function * decodeTraceText(
	input: string | Iterable<string> | AsyncIterable<string | Uint8Array>,
	options: TextReaderOptions = {},
): AsyncGenerator<TraceRecord> {
	const source: ChunkSource = typeof input === 'string'
		? (async function * () {
			yield input;
		})()
		: Symbol.asyncIterator in input
			? input
			: (async function * () {
				for (const line of input) {
					yield `${line}\n`;
				}
			})();
	yield * decodeChunks(source, options);
}

/** Whether a read ended because its signal aborted it. */
export function isAbort(error: unknown): boolean {
	return errnoCode(error) === 'ABORT_ERR' || (error as Error).name === 'AbortError';
}

/** A recorded trace file that could not be read, as a TracefsError (a missing file is the user's mistake). */
export function traceFileError(path: string, error: unknown): TracefsError {
	const code = errnoCode(error);
	// A path that names no readable file is the user's to fix.
	const usage = code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR' || code === 'EACCES';
	// Node's fs messages: "ENOENT: no such file or directory, open '/x'"; the reason is before the comma.
	const reason = error instanceof Error ? `: ${error.message.split(',')[0]!}` : '';
	return error instanceof TracefsError ? error : new TracefsError(`cannot read trace file ${path}${reason}`, {operation: 'read', path, code, cause: error, usage});
}

/**
 * Throw the readers' TracefsError now when `path` cannot be read as a
 * trace file (missing, a directory, not permitted): for tools, before they
 * print anything.
 */
export async function checkTraceFile(path: string): Promise<void> {
	let file: FileHandle | undefined;
	try {
		file = await open(path, 'r');
		if ((await file.stat()).isDirectory()) {
			throw Object.assign(new Error('EISDIR: illegal operation on a directory, read'), {code: 'EISDIR'});
		}
	} catch (error) {
		throw traceFileError(path, error);
	} finally {
		await file?.close();
	}
}

/**
 * A recorded file's bytes, a chunk at a time, with `progress` reported as
 * they are dealt with; an abort ends them. Throws TracefsError when the
 * file cannot be read.
 */
async function * fileChunks(path: string, options: {readonly signal?: AbortSignal | undefined; readonly progress?: FileProgress | undefined}): AsyncGenerator<Buffer> {
	const size = options.progress ? await stat(path).then(stats => stats.size, () => 0) : 0;
	const stream = createReadStream(path, {highWaterMark: 1 << 20, ...(options.signal ? {signal: options.signal} : {})});
	try {
		yield * withProgress(stream as AsyncIterable<Buffer>, size, options.progress);
	} catch (error) {
		if (isAbort(error)) {
			return;
		}

		throw traceFileError(path, error);
	} finally {
		stream.destroy();
	}
}

/** Decode a recorded text trace file (a saved `trace` or `trace_pipe`). Throws TracefsError when it cannot be opened. */
export async function * readTraceTextFile(path: string, options: TextReaderOptions = {}): AsyncGenerator<TraceRecord> {
	yield * decodeTraceText(fileChunks(path, options), options);
}

/**
 * The text lines of a recorded trace file as they are (no decoding; the
 * last line also without a final newline), read a chunk at a time: memory
 * stays flat, and files longer than the longest string V8 holds (512 MiB)
 * read too. `progress` as for readTraceTextFile; an abort ends the lines.
 * Throws TracefsError when the file cannot be read.
 */
export async function * readTraceTextLines(path: string, options: {readonly signal?: AbortSignal | undefined; readonly progress?: FileProgress | undefined} = {}): AsyncGenerator<string> {
	const utf8 = new StringDecoder('utf8');
	let partial = '';
	for await (const chunk of fileChunks(path, options)) {
		const lines = (partial + utf8.write(chunk)).split('\n');
		partial = lines.pop()!;
		yield * lines;
	}

	const last = partial + utf8.end();
	if (last !== '') {
		yield last;
	}
}

/** Options for reading an instance's text trace. */
export interface InstanceTextOptions extends TextReaderOptions {
	/**
	 * 'trace' (default): the buffer as it is now, not consumed, ends at the
	 * end. 'trace_pipe': consuming and live, runs until `signal` aborts (or,
	 * with `untilEmpty`, until the buffer is drained).
	 */
	readonly file?: 'trace' | 'trace_pipe' | undefined;
	/** trace_pipe: stop once the pipe has nothing to read (drain and end). */
	readonly untilEmpty?: boolean | undefined;
	/** trace_pipe: how long to sleep when the pipe is empty. Default 100 ms. */
	readonly pollIntervalMs?: number | undefined;
	/**
	 * trace_pipe: called, and awaited, each time the pipe is found empty
	 * (every record read before has been yielded and taken): a point where
	 * everything the kernel had written is known.
	 */
	readonly onIdle?: (() => void | Promise<void>) | undefined;
	/**
	 * Report per_cpu stats losses (overrun, dropped) at the end: for
	 * trace_pipe the growth while reading, for trace the totals; either less
	 * what "[LOST n EVENTS]" lines already reported. Default true.
	 */
	readonly statsLoss?: boolean | undefined;
	/**
	 * trace_pipe: the instance's stats counted nothing when tracing started
	 * (a tool's own new instance), so every loss they count is reported, also
	 * those from before the reader started; by default only their growth
	 * while reading is.
	 */
	readonly statsFromZero?: boolean | undefined;
}

/**
 * Read an instance's `trace` or `trace_pipe` as records.
 *
 * trace_pipe is opened O_NONBLOCK and polled: a blocking read would sit in
 * one of libuv's 4 threadpool threads where neither close() nor an abort can
 * wake it; with EAGAIN we sleep `pollIntervalMs` (no busy wait) and abort is
 * immediate. The reader owns the file it opens and closes it on every exit
 * path; the instance and the events stay the caller's.
 *
 * Throws TracefsError when the file cannot be opened or read.
 */
export async function * readInstanceTrace(instance: Instance, options: InstanceTextOptions = {}): AsyncGenerator<TraceRecord> {
	const formats = options.formats ?? FormatCache.forInstance(instance);
	const file = options.file ?? 'trace';
	const withStats = options.statsLoss !== false;
	const before = withStats && file === 'trace_pipe' && !options.statsFromZero ? await readAllCpuStats(instance).catch(() => undefined) : undefined;
	const decodeOptions = {formats, signal: options.signal};
	const inBand = new InBandLosses();
	if (file === 'trace') {
		const stream = createReadStream(instance.path('trace'), {highWaterMark: 1 << 20});
		try {
			for await (const record of decodeChunks(stream, decodeOptions)) {
				yield inBand.note(record);
			}
		} catch (error) {
			throw new TracefsError(`cannot read ${instance.label} trace`, {operation: 'read', path: instance.path('trace'), code: errnoCode(error), cause: error, usage: false});
		} finally {
			stream.destroy();
		}
	} else {
		for await (const record of decodeChunks(pipeChunks(instance.path('trace_pipe'), instance.path('trace_pipe'), options), decodeOptions, options.onIdle)) {
			yield inBand.note(record);
		}
	}

	if (withStats) {
		const after = await readAllCpuStats(instance).catch(() => undefined);
		if (after) {
			yield * statsLosses(before, after, inBand);
		}
	}
}

/**
 * LostEvents for the growth of overrun/dropped between two stats snapshots
 * (or the totals without `before`), less the overwritten events `inBand`
 * already reported per CPU (see InBandLosses): the kernel counts each
 * overwritten event once in `overrun` and once more in the reader's
 * "[LOST n EVENTS]" line or page flag.
 */
export function * statsLosses(before: readonly CpuStats[] | undefined, after: readonly CpuStats[], inBand?: InBandLosses): Generator<LostEvents> {
	for (const now of after) {
		const then = before?.find(s => s.cpu === now.cpu);
		const overrun = now.overrun - (then?.overrun ?? 0) - (inBand?.countedOn(now.cpu) ?? 0);
		const dropped = now.dropped - (then?.dropped ?? 0);
		if (overrun > 0) {
			yield {kind: 'lost', cpu: now.cpu, count: overrun, source: 'overrun'};
		}

		if (dropped > 0) {
			yield {kind: 'lost', cpu: now.cpu, count: dropped, source: 'dropped'};
		}
	}
}

/**
 * The losses a reader reported from the data itself ("CPU:N [LOST n
 * EVENTS]" lines, pages' missed-events counts), counted per CPU so that
 * statsLosses adds at the end only what they did not cover (events
 * overwritten after the last read). Markers without a count add nothing.
 */
export class InBandLosses {
	readonly #byCpu = new Map<number, number>();

	/** Note `record` when it is a counted in-band loss; returns it. */
	note<R extends {readonly kind: string}>(record: R): R {
		if (record.kind === 'lost') {
			const lost = record as unknown as LostEvents;
			if (lost.count !== undefined && (lost.source === 'text' || lost.source === 'page')) {
				this.#byCpu.set(lost.cpu, (this.#byCpu.get(lost.cpu) ?? 0) + lost.count);
			}
		}

		return record;
	}

	/** Events reported lost in band on this CPU so far. */
	countedOn(cpu: number): number {
		return this.#byCpu.get(cpu) ?? 0;
	}
}

/**
 * The lines of an instance's trace_pipe as they arrive (consuming them), as
 * the kernel wrote them. Polled non-blocking like readInstanceTrace, so
 * aborting `signal` ends the iteration promptly and leaves no thread blocked
 * in read(2); an end of file (tracing switched off) is waited out. Throws
 * TracefsError when the pipe cannot be opened or read.
 */
export async function * readTracePipe(instance: Instance, options: {readonly signal?: AbortSignal | undefined; readonly pollMs?: number} = {}): AsyncGenerator<string> {
	const text = new StringDecoder('utf8');
	let partial = '';
	const chunks = pipeChunks(instance.path('trace_pipe'), `${instance.label} trace_pipe`, {signal: options.signal, pollIntervalMs: options.pollMs, pollAtEof: true});
	for await (const chunk of chunks) {
		if (chunk !== undefined) {
			const lines = (partial + text.write(chunk as Buffer)).split('\n');
			partial = lines.pop() ?? '';
			yield * lines;
		}
	}
}

/**
 * Chunks of a tracefs pipe file (`what` in messages) opened O_NONBLOCK;
 * `undefined` marks an idle moment (EAGAIN). Ends on abort, when empty with
 * `untilEmpty`, or at end of file unless `pollAtEof`.
 */
async function * pipeChunks(path: string, what: string, options: InstanceTextOptions & {readonly pollAtEof?: boolean}): AsyncGenerator<Uint8Array | undefined> {
	let handle: FileHandle;
	try {
		handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
	} catch (error) {
		throw new TracefsError(`cannot open ${what}`, {operation: 'open', path, code: errnoCode(error), cause: error, usage: false});
	}

	const buffer = Buffer.alloc(64 * 1024);
	try {
		while (!options.signal?.aborted) {
			let bytes: number;
			try {
				// eslint-disable-next-line no-await-in-loop
				({bytesRead: bytes} = await handle.read(buffer, 0, buffer.length, null));
			} catch (error) {
				if (errnoCode(error) !== 'EAGAIN') {
					throw new TracefsError(`cannot read ${what}`, {operation: 'read', path, code: errnoCode(error), cause: error, usage: false});
				}

				bytes = -1;
			}

			if (bytes > 0) {
				yield Buffer.from(buffer.subarray(0, bytes));
				continue;
			}

			if (bytes === 0 && !options.pollAtEof) {
				return;
			}

			yield undefined;
			if (options.untilEmpty) {
				return;
			}

			// eslint-disable-next-line no-await-in-loop
			await abortableSleep(options.pollIntervalMs ?? 100, options.signal);
		}
	} finally {
		await handle.close().catch(() => undefined);
	}
}

/** Sleep, returning early (without throwing) when the signal aborts. */
export async function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
	if (signal?.aborted) {
		return;
	}

	await sleep(ms, undefined, signal ? {signal} : {}).catch(() => undefined);
}

export type {FieldValue};
