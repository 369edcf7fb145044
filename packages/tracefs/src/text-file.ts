/**
 * The field reader over a recorded text trace, decoded by worker threads.
 * The file is cut into segments (the lines that start in each byte range);
 * workers read them in place (FastTextDecoder.readBytes, as the one-thread
 * reader does) and send each queried event as numbers (its prefix, its
 * queried fields, its comm and string fields as indexes into a table of
 * strings the worker has sent) and every other line as its text. This
 * thread takes the segments in file order: the queried events go to the
 * sink as FieldLines, the other lines through the same general pass as the
 * one-thread reader's, so the sink sees what it would see there, in the
 * same order. Workers run at most two segments ahead of the reader each:
 * memory does not grow with the file.
 */
import {isAscii} from 'node:buffer';
import {closeSync, createReadStream, openSync, readSync} from 'node:fs';
import {open, stat, type FileHandle} from 'node:fs/promises';
import {availableParallelism} from 'node:os';
import {Worker} from 'node:worker_threads';
import {TracefsError} from './errors.js';
import {FastTextDecoder, GeneralPass, decodeTraceTextBatches, type FastTextOptions, type FieldLine, type FieldQuery, type FieldSink} from './fast-text.js';
import {FormatCache, type FormatText} from './format-cache.js';
import {parseEventFormat} from './format.js';
import {isAbort, traceFileError, withProgress} from './text-reader.js';
import type {TraceRecord} from './trace-record.js';

/** The formats a worker decodes with: the texts of the queried events' formats. */
export interface WorkerFormats {
	readonly texts: FormatText[];
	/** The reader's cache loads from an instance (events without a format then count as not yet loaded, not as unknown). */
	readonly instance: boolean;
}

export interface SegmentSetup {
	readonly path: string;
	readonly query: FieldQuery;
	readonly formats: WorkerFormats | undefined;
	readonly retryFormats: WorkerFormats | undefined;
}

/** A segment: the lines that start at a byte in [from, to). */
export interface SegmentRequest {
	readonly segment: number;
	readonly from: number;
	readonly to: number;
}

/**
 * One decoded segment. `rows` holds one row of `width` numbers per line:
 * a queried event is [event, cpu, pid, seconds, nanoseconds, comm,
 * numbers..., strings...] (comm and strings index the worker's table, -1
 * for a missing string); another line is [-1, its index in `texts`,
 * 1 when it holds no line terminator, ...]; the file's last line, when no
 * newline ends it, is [-2, its index in `texts`, ...].
 */
export interface SegmentReply {
	readonly segment: number;
	readonly rows: Float64Array;
	readonly count: number;
	readonly texts: string[];
	/** Strings the worker's table gained with this segment, in index order. */
	readonly strings: string[];
	readonly error?: string | undefined;
}

/** Numbers per row: the prefix, then the query's fields. */
export function rowWidth(query: FieldQuery): number {
	return 6 + query.numbers.length + query.strings.length;
}

function cacheOf(formats: WorkerFormats | undefined, instanceCache: () => FormatCache): FormatCache | undefined {
	if (!formats) {
		return undefined;
	}

	const cache = formats.instance ? instanceCache() : FormatCache.fromFormats([]);
	for (const {system, text} of formats.texts) {
		cache.add(parseEventFormat(text, system), text);
	}

	return cache;
}

/**
 * A worker's side: decodes the segments it is asked for. `instanceCache`
 * gives an instance-backed (never loading) cache when the reader's is one.
 */
export class SegmentDecoder {
	readonly #fast: FastTextDecoder;
	readonly #table = new Map<string, number>();
	readonly #width: number;
	#fd: number;
	#fresh: string[] = [];

	constructor(readonly setup: SegmentSetup, instanceCache: () => FormatCache) {
		const formats = cacheOf(setup.formats, instanceCache);
		const retryFormats = cacheOf(setup.retryFormats, instanceCache);
		this.#fast = new FastTextDecoder(formats, retryFormats, setup.query);
		this.#width = rowWidth(setup.query);
		this.#fd = openSync(setup.path, 'r');
	}

	close(): void {
		if (this.#fd !== -1) {
			closeSync(this.#fd);
			this.#fd = -1;
		}
	}

	decode(request: SegmentRequest): SegmentReply {
		const {bytes, unterminated} = this.#lines(request.from, request.to);
		const width = this.#width;
		const {query} = this.setup;
		const numbers = query.numbers.length;
		let rows = new Float64Array(width * Math.max(64, Math.ceil(bytes.length / 64)));
		let count = 0;
		const texts: string[] = [];
		const fast = this.#fast;
		fast.refresh();
		const row = (): number => {
			if ((count + 1) * width > rows.length) {
				const grown = new Float64Array(rows.length * 2);
				grown.set(rows);
				rows = grown;
			}

			return count++ * width;
		};

		const put = (line: FieldLine): void => {
			const at = row();
			rows[at] = line.event;
			rows[at + 1] = line.cpu;
			rows[at + 2] = line.pid;
			rows[at + 3] = line.seconds;
			rows[at + 4] = line.nanoseconds;
			rows[at + 5] = this.#id(line.comm());
			rows.set(line.numbers, at + 6);
			for (let i = 0; i < query.strings.length; i++) {
				const text = line.text(i);
				rows[at + 6 + numbers + i] = text === undefined ? -1 : this.#id(text);
			}
		};

		const other = (kind: number, text: string, clean: boolean): void => {
			const at = row();
			rows[at] = kind;
			rows[at + 1] = texts.length;
			rows[at + 2] = clean ? 1 : 0;
			texts.push(text);
		};

		// As the one-thread reader: ASCII without carriage returns is read from the bytes, anything else as UTF-8 text.
		const inPlace = isAscii(bytes) && bytes.indexOf(13) === -1;
		for (let start = 0; start < bytes.length;) {
			let newline = bytes.indexOf(10, start);
			if (newline === -1) {
				newline = bytes.length;
			}

			if (newline === bytes.length && unterminated) {
				other(-2, bytes.toString('utf8', start, newline), false);
				break;
			}

			if (inPlace) {
				const line = fast.readBytes(bytes, start, newline);
				if (line) {
					put(line);
				} else {
					this.#text(bytes.toString('latin1', start, newline), true, put, other);
				}
			} else {
				const end = newline > start && bytes[newline - 1] === 13 ? newline - 1 : newline;
				const text = bytes.toString('utf8', start, end);
				this.#text(text, !/[\r\u2028\u2029]/.test(text), put, other);
			}

			start = newline + 1;
		}

		const strings = this.#fresh;
		this.#fresh = [];
		return {segment: request.segment, rows: rows.subarray(0, count * width), count, texts, strings};
	}

	/** A line as text: the text path reads a queried event (then first seen in this segment), else it goes back as text. */
	#text(text: string, clean: boolean, put: (line: FieldLine) => void, other: (kind: number, text: string, clean: boolean) => void): void {
		const line = this.#fast.readLine(text, 0, text.length, clean);
		if (line?.kind === 'fields') {
			put(line);
		} else {
			other(-1, text, clean);
		}
	}

	#id(text: string): number {
		let id = this.#table.get(text);
		if (id === undefined) {
			id = this.#table.size;
			this.#table.set(text, id);
			this.#fresh.push(text);
		}

		return id;
	}

	/** The bytes of the lines starting in [from, to), whole; `unterminated` when the last is the file's and no newline ends it. */
	#lines(from: number, to: number): {bytes: Buffer; unterminated: boolean} {
		let start = from;
		if (from > 0) {
			// A line starts at `from` only when a newline is just before it.
			const head = this.#read(from - 1, to - from + 1);
			const newline = head.indexOf(10);
			if (newline === -1) {
				return {bytes: Buffer.alloc(0), unterminated: false};
			}

			start = from + newline;
		}

		if (start >= to) {
			return {bytes: Buffer.alloc(0), unterminated: false};
		}

		let bytes = this.#read(start, to - start);
		// The last line runs on to its newline.
		while (bytes.length > 0 && bytes[bytes.length - 1] !== 10) {
			const more = this.#read(start + bytes.length, 1 << 16);
			if (more.length === 0) {
				return {bytes, unterminated: true};
			}

			const newline = more.indexOf(10);
			bytes = Buffer.concat([bytes, newline === -1 ? more : more.subarray(0, newline + 1)]);
		}

		return {bytes, unterminated: false};
	}

	#read(position: number, length: number): Buffer {
		const buffer = Buffer.allocUnsafe(length);
		let got = 0;
		while (got < length) {
			const n = readSync(this.#fd, buffer, got, length - got, position + got);
			if (n === 0) {
				break;
			}

			got += n;
		}

		return buffer.subarray(0, got);
	}
}

/** A queried event as a worker sent it, refilled row by row. */
class RowLine implements FieldLine {
	readonly kind = 'fields';
	event = 0;
	cpu = 0;
	pid = 0;
	seconds = 0;
	nanoseconds = 0;
	readonly numbers: Float64Array;
	rows: Float64Array = new Float64Array(0);
	at = 0;
	table: string[] = [];

	constructor(readonly query: FieldQuery) {
		this.numbers = new Float64Array(query.numbers.length);
	}

	fill(rows: Float64Array, at: number, table: string[]): void {
		this.rows = rows;
		this.at = at;
		this.table = table;
		this.event = rows[at]!;
		this.cpu = rows[at + 1]!;
		this.pid = rows[at + 2]!;
		this.seconds = rows[at + 3]!;
		this.nanoseconds = rows[at + 4]!;
		const {numbers} = this;
		for (let i = 0; i < numbers.length; i++) {
			numbers[i] = rows[at + 6 + i]!;
		}
	}

	comm(): string {
		return this.table[this.rows[this.at + 5]!]!;
	}

	text(index: number): string | undefined {
		if (index < 0 || index >= this.query.strings.length) {
			return undefined;
		}

		const id = this.rows[this.at + 6 + this.numbers.length + index]!;
		return id < 0 ? undefined : this.table[id];
	}
}

/**
 * How the reader hands its formats to workers (those of the queried events,
 * loaded before reading); null when it cannot (formats given without their texts).
 */
function workerFormats(cache: FormatCache | undefined, names: readonly string[]): WorkerFormats | undefined | null {
	if (!cache) {
		return undefined;
	}

	const texts: FormatText[] = [];
	for (const name of names) {
		const format = cache.byName(name);
		if (format) {
			const text = cache.textOf(format);
			if (text === undefined) {
				return null;
			}

			texts.push({system: format.system, text});
		}
	}

	return {texts, instance: cache.instance !== undefined};
}

export interface TextFileOptions extends FastTextOptions {
	/**
	 * With `fields`: decode in this many worker threads (0: on this one).
	 * The default, for files of 16 MiB and more on machines with 4 CPUs or
	 * more: one per CPU but one, at most 4; otherwise none.
	 */
	readonly workers?: number | undefined;
	/** With workers: bytes per segment handed to a worker (default 4 MiB). */
	readonly segmentBytes?: number | undefined;
	/**
	 * With `fields`, on this thread: read only the lines that start at a
	 * byte in [from, to) (a piece of a long file; pieces cut at any offsets
	 * hold each line once).
	 */
	readonly range?: {readonly from: number; readonly to: number} | undefined;
}

type ParallelTextOptions = TextFileOptions & {readonly fields: FieldSink; readonly workers: number};

/**
 * The queried events of the text trace file `path` to `options.fields`,
 * decoded by worker threads, exactly as readTraceTextFileBatches gives
 * them; yields (empty batches) every couple of thousand lines, a point to
 * pass on what the callbacks gathered. Returns false without reading when
 * the formats cannot go to workers (then read it on one thread). Throws
 * TracefsError when the file cannot be read.
 */
async function * readTraceTextFileParallel(path: string, size: number, options: ParallelTextOptions): AsyncGenerator<TraceRecord[], boolean> {
	const {fields, retryFormats, signal} = options;
	const query: FieldQuery = {events: [...fields.events], numbers: [...fields.numbers], strings: [...fields.strings]};
	const formats = workerFormats(options.formats, query.events);
	const retry = workerFormats(retryFormats, query.events);
	if (formats === null || retry === null) {
		return false;
	}

	const setup: SegmentSetup = {path, query, formats, retryFormats: retry};
	const segmentBytes = Math.max(1, options.segmentBytes ?? (4 << 20));
	const segments = Math.max(1, Math.ceil(size / segmentBytes));
	const count = Math.max(1, Math.min(options.workers, segments));
	const ahead = 2 * count;
	const pool: Worker[] = [];
	const replies = new Map<number, SegmentReply>();
	let waiting: {segment: number; done: (reply: SegmentReply) => void; fail: (error: Error) => void} | undefined;
	let failure: Error | undefined;
	const fail = (error: Error): void => {
		failure ??= error;
		waiting?.fail(failure);
		waiting = undefined;
	};

	for (let i = 0; i < count; i++) {
		const worker = new Worker(new URL('text-worker.js', import.meta.url), {workerData: setup});
		worker.on('message', (reply: SegmentReply) => {
			if (reply.error !== undefined) {
				fail(new TracefsError(`cannot read trace file ${path}: ${reply.error}`, {operation: 'read', path}));
			} else if (waiting?.segment === reply.segment) {
				const {done} = waiting;
				waiting = undefined;
				done(reply);
			} else {
				replies.set(reply.segment, reply);
			}
		});
		worker.on('error', error => fail(error));
		pool.push(worker);
	}

	const request = (segment: number): void => {
		if (segment < segments) {
			pool[segment % count]!.postMessage({segment, from: segment * segmentBytes, to: Math.min(size, (segment + 1) * segmentBytes)} satisfies SegmentRequest);
		}
	};

	const next = async (segment: number): Promise<SegmentReply> => {
		const reply = replies.get(segment);
		if (reply) {
			replies.delete(segment);
			return reply;
		}

		if (failure) {
			throw failure;
		}

		return new Promise((done, failed) => {
			waiting = {segment, done, fail: failed};
		});
	};

	const fast = new FastTextDecoder(options.formats, retryFormats, fields);
	const pass = new GeneralPass(options.formats, retryFormats, fast, fields);
	const line = new RowLine(query);
	const width = rowWidth(query);
	const tables: string[][] = pool.map(() => []);
	try {
		for (let segment = 0; segment < ahead; segment++) {
			request(segment);
		}

		let lines = 0;
		for (let segment = 0; segment < segments; segment++) {
			if (signal?.aborted) {
				return true;
			}

			// eslint-disable-next-line no-await-in-loop
			const reply = await next(segment);
			request(segment + ahead);
			const table = tables[segment % count]!;
			for (const text of reply.strings) {
				table.push(text);
			}

			fast.refresh();
			const {rows, texts} = reply;
			for (let at = 0; at < reply.count * width; at += width) {
				const kind = rows[at]!;
				if (kind >= 0) {
					line.fill(rows, at, table);
					pass.field(line);
				} else if (kind === -1) {
					// eslint-disable-next-line no-await-in-loop
					await pass.other(texts[rows[at + 1]!]!, rows[at + 2] === 1);
				} else {
					// eslint-disable-next-line no-await-in-loop
					await pass.line(texts[rows[at + 1]!]!);
				}

				if (++lines === 2048) {
					lines = 0;
					yield [];
				}
			}

			options.progress?.(Math.min(size, (segment + 1) * segmentBytes), size);
		}

		pass.flush();
		yield [];
		return true;
	} catch (error) {
		throw traceFileError(path, error);
	} finally {
		await Promise.all(pool.map(async worker => worker.terminate()));
	}
}

/**
 * Decode a recorded text trace file in batches (see decodeTraceTextBatches;
 * with `fields`, in worker threads for long files: see TextFileOptions).
 * Throws TracefsError when it cannot be opened.
 */
export async function * readTraceTextFileBatches(path: string, options: TextFileOptions = {}): AsyncGenerator<TraceRecord[]> {
	const {fields} = options;
	if (fields) {
		// The queried events' formats first, so that their first lines are read in place too (as workers read them).
		for (const cache of [options.formats, options.retryFormats]) {
			for (const name of cache?.instance ? fields.events : []) {
				// eslint-disable-next-line no-await-in-loop
				await cache!.load(name).catch(() => undefined);
			}
		}

		// A file that cannot be stated is reported by the one-thread read.
		const size = await stat(path).then(stats => (stats.isFile() ? stats.size : 0), () => 0);

		// With fewer CPUs the threads compete with the reader's own work (its sink's) and gain little.
		const cpus = availableParallelism();
		const workers = options.range ? 0 : options.workers ?? (size >= 16 << 20 && cpus >= 4 ? Math.min(4, cpus - 1) : 0);
		if (workers > 0 && size > 0 && (yield * readTraceTextFileParallel(path, size, {...options, fields, workers}))) {
			return;
		}
	}

	// With fields nothing keeps the bytes of a chunk past it: one buffer serves every read.
	const stream = options.fields ? readInto(path, 1 << 20, options.range) : createReadStream(path, {highWaterMark: 1 << 20, ...(options.signal ? {signal: options.signal} : {})});
	const {range, progress} = options;
	const total = !progress ? 0 : range ? Math.max(0, range.to - range.from) : await stat(path).then(stats => stats.size, () => 0);
	try {
		yield * decodeTraceTextBatches(withProgress(stream as AsyncIterable<Buffer>, total, progress), options);
	} catch (error) {
		if (isAbort(error)) {
			return;
		}

		throw traceFileError(path, error);
	} finally {
		if ('destroy' in stream) {
			stream.destroy();
		} else {
			await stream.return(undefined);
		}
	}
}

/**
 * The file's bytes, read into two buffers of `size` in turn: the next
 * chunk is read (by the thread pool) while the caller decodes this one, so
 * decoding does not wait for the disk or the page cache copy. A chunk is
 * valid until the next is asked for.
 */
async function * readInto(path: string, size: number, range?: {readonly from: number; readonly to: number}): AsyncGenerator<Buffer> {
	const file = await open(path, 'r');
	const buffers = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
	let turn = 0;
	let ahead: Promise<{bytesRead: number}> | undefined;
	try {
		// The bytes of the lines that start in the range (all of them without one).
		let position = range ? await lineStart(file, range.from) : 0;
		const stop = range ? await lineStart(file, range.to) : Number.POSITIVE_INFINITY;
		const read = (buffer: Buffer): Promise<{bytesRead: number}> => {
			const length = Math.min(size, stop - position);
			return length > 0 ? file.read(buffer, 0, length, position) : Promise.resolve({bytesRead: 0});
		};

		ahead = read(buffers[0]!);
		for (;;) {
			// eslint-disable-next-line no-await-in-loop
			const {bytesRead} = await ahead;
			ahead = undefined;
			if (bytesRead === 0) {
				return;
			}

			position += bytesRead;
			const chunk = buffers[turn]!.subarray(0, bytesRead);
			turn = 1 - turn;
			ahead = read(buffers[turn]!);
			yield chunk;
		}
	} finally {
		// A read still under way finishes before the file closes.
		await ahead?.catch(() => undefined);
		await file.close();
	}
}

/** Where the first line starting at a byte offset of `at` or later begins (the file's size when none does). */
async function lineStart(file: FileHandle, at: number): Promise<number> {
	if (at <= 0) {
		return 0;
	}

	// A line starts at `at` only when a newline is just before it.
	const buffer = Buffer.allocUnsafe(64 * 1024);
	for (let position = at - 1; ;) {
		// eslint-disable-next-line no-await-in-loop
		const {bytesRead} = await file.read(buffer, 0, buffer.length, position);
		if (bytesRead === 0) {
			return position;
		}

		const newline = buffer.subarray(0, bytesRead).indexOf(10);
		if (newline !== -1) {
			return position + newline + 1;
		}

		position += bytesRead;
	}
}
