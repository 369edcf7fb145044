/**
 * The seam between the tools and the tracefs readers. Tools consume these
 * shapes (a structural subset of @ftrace-ts/tracefs's TraceRecord), so the
 * text and binary readers plug in without changes to the tools.
 */
import {open} from 'node:fs/promises';
import {FastTextDecoder, FormatCache, InBandLosses, Instance, Tracefs, decodeAgain, parseTraceLine, readCapture, readInstanceTrace, readTracePipe, readTraceTextFile, readTraceTextFileBatches, readTraceTextLines, type FieldLine, type TraceRecord} from '@ftrace-ts/tracefs';
import {lossesBeyond} from './trace-lines.js';
import {UsageError} from './cli.js';
import {replayProgress} from './replay-progress.js';
import {replayWantsThread} from './replay-threads.js';

export type FieldValue = string | number | bigint | number[];

/** A decoded event: fields by name, plus who/where/when. */
export interface InputEvent {
	readonly kind: 'event';
	readonly cpu: number;
	readonly timestamp: number;
	readonly timestampNs: bigint;
	readonly pid: number;
	readonly comm: string;
	readonly system?: string | undefined;
	readonly event: string;
	readonly fields: Readonly<Record<string, FieldValue>>;
	readonly decoded: boolean;
	readonly body?: string | undefined;
	readonly stack?: readonly string[] | undefined;
}

export interface InputLost {
	readonly kind: 'lost';
	readonly cpu: number;
	readonly count: number | undefined;
}

/** Records the tools do not use (function, graph, stack lines) pass as `other`. */
export interface InputOther {
	readonly kind: 'function' | 'graph' | 'stack';
	readonly text?: string | undefined;
}

export type InputRecord = InputEvent | InputLost | InputOther;

export interface LiveReaderOptions {
	/** Read `trace` once (buffered) instead of following `trace_pipe`. */
	readonly buffered: boolean;
	readonly signal?: AbortSignal | undefined;
}

export interface ReplayReaderOptions {
	readonly formats?: ReadonlyArray<{readonly system: string; readonly text: string}> | undefined;
	readonly signal?: AbortSignal | undefined;
}

/**
 * Records of a tool's instance: following trace_pipe until aborted, or
 * `trace` once (buffered). The instance must have been new (its stats at
 * zero) when tracing started: every loss its stats count is reported.
 */
export async function * openLiveReader(instance: Instance, options: LiveReaderOptions): AsyncGenerator<InputRecord> {
	const records = readInstanceTrace(instance, options.buffered
		? {file: 'trace'}
		: {file: 'trace_pipe', signal: options.signal, pollIntervalMs: 50, statsFromZero: true});
	yield * records as AsyncIterable<InputRecord>;
}

/** A moment trace_pipe was found empty: every event the kernel had written before has been read. */
export interface InputIdle {
	readonly kind: 'idle';
}

const idleMark: InputIdle = {kind: 'idle'};

/**
 * openLiveReader (live), with an InputIdle each time trace_pipe is found
 * empty. The reader waits in its idle callback while the consumer has the
 * mark, so the consumer acts at the very point the pipe was empty.
 */
export async function * openLiveReaderIdle(instance: Instance, options: LiveReaderOptions): AsyncGenerator<InputRecord | InputIdle> {
	let resume: (() => void) | undefined;
	let parked: (() => void) | undefined;
	let parkedEarly = false;
	let closing = false;
	// Its own signal: a consumer that stops early ends the reader too (else a pending read would never settle).
	const controller = new AbortController();
	const stop = (): void => controller.abort();
	options.signal?.addEventListener('abort', stop, {once: true});
	if (options.signal?.aborted) {
		stop();
	}

	const records = readInstanceTrace(instance, {
		file: 'trace_pipe',
		signal: controller.signal,
		pollIntervalMs: 50,
		statsFromZero: true,
		async onIdle() {
			if (closing) {
				return;
			}

			await new Promise<void>(resolve => {
				resume = resolve;
				if (parked) {
					parked();
				} else {
					parkedEarly = true;
				}
			});
		},
	});
	let next = records.next();
	try {
		for (;;) {
			let result: IteratorResult<TraceRecord> | 'idle';
			if (parkedEarly) {
				parkedEarly = false;
				result = 'idle';
			} else {
				// eslint-disable-next-line no-await-in-loop
				result = await Promise.race([next, new Promise<'idle'>(resolve => {
					parked = () => resolve('idle');
				})]);
				parked = undefined;
			}

			if (result === 'idle') {
				yield idleMark;
				const go = resume;
				resume = undefined;
				go?.();
				continue;
			}

			if (result.done) {
				return;
			}

			yield result.value as InputRecord;
			next = records.next();
		}
	} finally {
		// A reader waiting in its idle callback goes on, then ends.
		closing = true;
		controller.abort();
		resume?.();
		options.signal?.removeEventListener('abort', stop);
		await records.return(undefined);
	}
}

const captureMagic = Buffer.from([0x46, 0x54, 0x52, 0x43, 0x41, 0x50, 0x00, 0x01]);

/** Whether `file` is a binary capture (else a text trace). Throws UsageError when it cannot be read. */
export async function isCaptureFile(file: string): Promise<boolean> {
	return isCapture(file);
}

async function isCapture(file: string): Promise<boolean> {
	let handle;
	try {
		handle = await open(file, 'r');
		const head = Buffer.alloc(captureMagic.length);
		const {bytesRead} = await handle.read(head, 0, head.length, 0);
		return bytesRead === head.length && head.equals(captureMagic);
	} catch (error) {
		throw new UsageError(`cannot read trace file ${file}: ${(error as Error).message}`);
	} finally {
		await handle?.close();
	}
}

/**
 * Records of a recorded trace: a binary capture (formats inside), or trace
 * text decoded with this kernel's formats where it has them, and lines that
 * do not match them decoded again with `formats` (older kernels' formats).
 * Throws UsageError when the file cannot be read.
 */
export async function * openReplayReader(file: string, options: ReplayReaderOptions): AsyncGenerator<InputRecord> {
	const progress = replayProgress(file);
	if (await isCapture(file)) {
		yield * readCapture(file, {signal: options.signal, progress}) as AsyncIterable<InputRecord>;
		return;
	}

	const {kernel, legacy} = await replayFormats(options);
	for await (const record of readTraceTextFile(file, {formats: kernel ?? legacy, signal: options.signal, progress})) {
		yield decodeAgain(record, legacy) as InputRecord;
	}
}

/** This kernel's formats (when it has tracefs) and the given older ones. */
async function replayFormats(options: ReplayReaderOptions): Promise<{kernel: FormatCache | undefined; legacy: FormatCache | undefined}> {
	const legacy = options.formats && options.formats.length > 0 ? FormatCache.fromFormats(options.formats) : undefined;
	const kernel = await Tracefs.find().then(tracefs => FormatCache.forInstance(Instance.top(tracefs)), () => undefined);
	return {kernel, legacy};
}

/**
 * An event line read in place, fields by name (the tracefs field reader's
 * FieldLine): reused from line to line, so read what you need before the next.
 */
export type InputFieldLine = FieldLine;

/** Which events and fields a tool reads, and where they go: queried events in place, every other record as it is. */
export interface InputFields {
	readonly events: readonly string[];
	readonly numbers: readonly string[];
	readonly strings: readonly string[];
	event(line: InputFieldLine): void;
	record(record: InputRecord): void;
}

/** A point to pass on what InputFields' callbacks gathered (after each chunk of a replay, each live record). */
export interface InputPause {
	readonly kind: 'pause';
	/** Live: trace_pipe was found empty (everything written before it has been read). */
	readonly idle?: boolean | undefined;
}

const pause: InputPause = {kind: 'pause'};

/**
 * The records openReplayReader reads, the same and in the same order, to
 * `fields`: text traces go through the tracefs fast text path, the queried
 * events without building records. Yields after each chunk. Throws
 * UsageError when the file cannot be read.
 */
export async function * openReplayFields(file: string, options: ReplayReaderOptions & {readonly fields: InputFields; readonly range?: {readonly from: number; readonly to: number} | undefined}): AsyncGenerator<InputPause> {
	const {fields} = options;
	// A piece of a split replay reports nothing: the split reports its pieces.
	const progress = options.range === undefined ? replayProgress(file) : undefined;
	if (options.range === undefined && await isCapture(file)) {
		let count = 0;
		for await (const record of readCapture(file, {signal: options.signal, progress})) {
			fields.record(record as InputRecord);
			if (++count % 4096 === 0) {
				yield pause;
			}
		}

		yield pause;
		return;
	}

	const {kernel, legacy} = await replayFormats(options);
	const sink = {
		events: fields.events,
		numbers: fields.numbers,
		strings: fields.strings,
		event: fields.event,
		record(record: TraceRecord) {
			fields.record(record as InputRecord);
		},
	};
	// eslint-disable-next-line @typescript-eslint/no-unused-vars
	// A range is a piece of a split replay, read on this thread.
	const threads = options.range ? {range: options.range} : replayWorkers();
	for await (const _ of readTraceTextFileBatches(file, {formats: kernel ?? legacy, retryFormats: legacy, signal: options.signal, fields: sink, progress, ...threads})) {
		yield pause;
	}
}

/**
 * Test and bench hooks: FTRACE_TS_REPLAY_WORKERS (decoding threads; 0: none)
 * and FTRACE_TS_REPLAY_SEGMENT (bytes per segment) override the reader's
 * defaults.
 */
function replayWorkers(): {workers?: number; segmentBytes?: number} {
	const read = (name: string): number | undefined => {
		const value = process.env[name];
		return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
	};

	const workers = read('FTRACE_TS_REPLAY_WORKERS');
	const segmentBytes = read('FTRACE_TS_REPLAY_SEGMENT');
	return {...(workers === undefined ? {} : {workers}), ...(segmentBytes === undefined ? {} : {segmentBytes})};
}

/**
 * Whether a replay's gaps are better counted by another thread while the
 * replay reads (replayGapsAtMost with `thread`; see replayWantsThread).
 * FTRACE_TS_GAPS_THREAD=1|0 forces it.
 */
export async function countGapsAside(file: string): Promise<boolean> {
	return replayWantsThread(file, 'FTRACE_TS_GAPS_THREAD');
}

/**
 * At most how many gaps (lost events, late-starting CPU buffers) a replay
 * reports; Infinity when that is not known up front (binary captures,
 * unreadable files: the reader reports those). With `thread`, a text file
 * is searched by a worker thread.
 */
export async function replayGapsAtMost(file: string, options: {readonly thread?: boolean} = {}): Promise<number> {
	try {
		return await isCapture(file) ? Number.POSITIVE_INFINITY : await FastTextDecoder.gapLinesIn(file, options);
	} catch {
		return Number.POSITIVE_INFINITY;
	}
}

/** One line of trace text as the kernel wrote it, and whether it reports lost events. */
export interface InputLine {
	readonly kind: 'line';
	readonly text: string;
	/** For "CPU:N [LOST n EVENTS]" lines: the gap. */
	readonly lost?: InputLost | undefined;
	/** For event lines: the event name and the task's thread id. */
	readonly event?: string | undefined;
	readonly pid?: number | undefined;
	/** A stack frame (" => func") or other continuation of the line before. */
	readonly continuation?: boolean | undefined;
	/** A header comment ("# tracer: nop"). */
	readonly comment?: boolean | undefined;
}

/** Classify a line: a lost-events marker becomes an InputLost. */
function lineRecord(text: string): InputLine {
	const parsed = parseTraceLine(text);
	if (parsed.kind === 'record' && parsed.record.kind === 'lost') {
		return {kind: 'line', text, lost: {kind: 'lost', cpu: parsed.record.cpu, count: parsed.record.count}};
	}

	if (parsed.kind === 'body') {
		return {kind: 'line', text, event: parsed.formatName, pid: parsed.context.pid};
	}

	if (parsed.kind === 'record' && parsed.record.kind === 'event') {
		return {kind: 'line', text, event: parsed.record.event, pid: parsed.record.pid};
	}

	if (parsed.kind === 'frame' || (parsed.kind === 'record' && parsed.record.kind === 'stack')) {
		return {kind: 'line', text, continuation: true};
	}

	return {kind: 'line', text, comment: text.startsWith('#')};
}

/**
 * The kernel's own text lines of a tool's instance (live or buffered), then
 * the losses its per_cpu stats count beyond the lines' "[LOST n EVENTS]"
 * (in a buffer dump: all of them). The instance's buffer must have been
 * empty when tracing started (a tool's own new instance).
 */
export async function * openLiveLines(instance: Instance, options: LiveReaderOptions): AsyncGenerator<InputLine | InputLost> {
	const inBand = new InBandLosses();
	const noted = (line: InputLine): InputLine => {
		if (line.lost) {
			inBand.note({...line.lost, source: 'text'});
		}

		return line;
	};

	if (options.buffered) {
		for (const line of (await instance.read('trace')).split('\n')) {
			if (line !== '') {
				yield noted(lineRecord(line));
			}
		}
	} else {
		for await (const line of readTracePipe(instance, {signal: options.signal, pollMs: 50})) {
			yield noted(lineRecord(line));
		}
	}

	yield * await lossesBeyond(instance, inBand);
}

/** The text lines of a recorded trace file, read a chunk at a time (readTraceTextLines). Throws UsageError when the file cannot be read. */
export async function * openReplayLines(file: string, options: {readonly signal?: AbortSignal | undefined}): AsyncGenerator<InputLine> {
	try {
		for await (const line of readTraceTextLines(file, {signal: options.signal, progress: replayProgress(file)})) {
			if (line !== '') {
				yield lineRecord(line);
			}
		}
	} catch (error) {
		// The reader's message names the file and the reason.
		throw new UsageError((error as Error).message);
	}
}
