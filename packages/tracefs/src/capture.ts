/**
 * Binary captures: raw ring-buffer pages recorded from an instance with
 * everything needed to decode them elsewhere (header_page, header_event,
 * event formats, saved_cmdlines), so any tool can replay a trace recorded
 * on another machine or kernel.
 *
 * File layout (little-endian integers):
 *
 *     "FTRCAP\0" 0x01          8 bytes: magic and version 1
 *     u32 length, JSON         the CaptureHeader
 *     blocks, each:            u32 cpu, u32 length, bytes
 *       cpu < 0xFFFFFFFF:      one raw page of that CPU (length = pageSize)
 *       cpu = 0xFFFFFFFF:      a JSON CaptureTrailer (last block)
 *
 * Pages of one CPU are in the order the kernel handed them out; readers
 * merge the CPUs by time stamp. A file without trailer (recording killed)
 * still reads; it lacks the late comm names and stats.
 */
import {open, type FileHandle} from 'node:fs/promises';
import {release} from 'node:os';
import {TracefsError, errnoCode} from './errors.js';
import {FormatCache, type FormatText} from './format-cache.js';
import type {Instance} from './instance.js';
import {checkHeaderEvent, pageEventIds, parseHeaderPage, taskNames, type PageLayout} from './ring-buffer.js';
import {instanceCpus, readAllCpuStats, type CpuStats} from './cpu-stats.js';
import {DecoderTable, RawPipe, decodePages, instancePageLayout, readTaskNames, type RawReaderOptions, type RawRecord} from './raw-reader.js';
import {InBandLosses, abortableSleep, statsLosses} from './text-reader.js';

const magic = Buffer.from([0x46, 0x54, 0x52, 0x43, 0x41, 0x50, 0x00, 0x01]);
const trailerCpu = 0xFFFF_FFFF;

/** The JSON header of a capture. */
export interface CaptureHeader {
	readonly format: 'ftrace-ts capture';
	readonly version: 1;
	readonly pageSize: number;
	readonly littleEndian: boolean;
	/** events/header_page and events/header_event texts. */
	readonly headerPage: string;
	readonly headerEvent: string;
	/** Format files of the events that may appear. */
	readonly formats: readonly FormatText[];
	readonly cpus: readonly number[];
	/** saved_cmdlines and saved_tgids at the start. */
	readonly cmdlines: string;
	readonly tgids: string;
	readonly clock?: string | undefined;
	readonly kernel?: string | undefined;
	readonly recordedAt: string;
	readonly instance?: string | undefined;
}

/** The JSON trailer: what is only known at the end. */
export interface CaptureTrailer {
	readonly cmdlines?: string | undefined;
	readonly tgids?: string | undefined;
	/** Formats of events seen that the header lacked. */
	readonly formats?: readonly FormatText[] | undefined;
	/** per_cpu stats at the start and end of recording. */
	readonly statsBefore?: readonly CpuStats[] | undefined;
	readonly statsAfter?: readonly CpuStats[] | undefined;
	readonly pages?: number | undefined;
}

/**
 * Writes a capture file block by block, buffering writes. Create with
 * CaptureWriter.create; the caller must call close() (which writes the
 * trailer) or abandon() on every path.
 */
export class CaptureWriter {
	/** Create (truncate) `path` and write the header. Throws TracefsError. */
	static async create(path: string, header: CaptureHeader): Promise<CaptureWriter> {
		let handle: FileHandle;
		try {
			handle = await open(path, 'w');
		} catch (error) {
			throw new TracefsError(`cannot create capture ${path}`, {operation: 'create capture', path, code: errnoCode(error), cause: error, usage: errnoCode(error) === 'ENOENT'});
		}

		const writer = new CaptureWriter(path, handle);
		const json = Buffer.from(JSON.stringify(header));
		const length = Buffer.alloc(4);
		length.writeUInt32LE(json.length);
		writer.#push(Buffer.concat([magic, length, json]));
		return writer;
	}

	#chunks: Buffer[] = [];
	#buffered = 0;
	#pages = 0;
	#bytes = 0;

	private constructor(readonly path: string, readonly handle: FileHandle) {}

	get pages(): number {
		return this.#pages;
	}

	get bytes(): number {
		return this.#bytes;
	}

	/** Append one page of `cpu`. */
	async writePage(cpu: number, page: Uint8Array): Promise<void> {
		const head = Buffer.alloc(8);
		head.writeUInt32LE(cpu, 0);
		head.writeUInt32LE(page.length, 4);
		this.#push(head);
		this.#push(Buffer.from(page.buffer, page.byteOffset, page.byteLength));
		this.#pages++;
		if (this.#buffered >= 1 << 20) {
			await this.flush();
		}
	}

	async flush(): Promise<void> {
		if (this.#chunks.length === 0) {
			return;
		}

		const data = Buffer.concat(this.#chunks);
		this.#chunks = [];
		this.#buffered = 0;
		try {
			await this.handle.write(data);
		} catch (error) {
			throw new TracefsError(`cannot write capture ${this.path}`, {operation: 'write capture', path: this.path, code: errnoCode(error), cause: error, usage: false});
		}
	}

	/** Write the trailer and close the file. Throws TracefsError. */
	async close(trailer: CaptureTrailer = {}): Promise<void> {
		const json = Buffer.from(JSON.stringify({...trailer, pages: this.#pages}));
		const head = Buffer.alloc(8);
		head.writeUInt32LE(trailerCpu, 0);
		head.writeUInt32LE(json.length, 4);
		this.#push(head);
		this.#push(json);
		try {
			await this.flush();
		} finally {
			await this.handle.close().catch(() => undefined);
		}
	}

	/** Close without a trailer (after an error); never throws. */
	async abandon(): Promise<void> {
		await this.flush().catch(() => undefined);
		await this.handle.close().catch(() => undefined);
	}

	#push(data: Buffer): void {
		this.#chunks.push(data);
		this.#buffered += data.length;
		this.#bytes += data.length;
	}
}

/** What recordCapture wrote. */
export interface CaptureSummary {
	readonly path: string;
	readonly pages: number;
	readonly bytes: number;
	/** Pages whose missed-events flag was set. */
	readonly pagesWithLoss: number;
	/** overrun + dropped growth in per_cpu stats while recording. */
	readonly statsLost: number;
}

/** Options of recordCapture. */
export interface RecordCaptureOptions {
	readonly signal?: AbortSignal | undefined;
	/** Stop when every CPU's buffer is empty. Default false: until aborted. */
	readonly untilEmpty?: boolean | undefined;
	readonly pollIntervalMs?: number | undefined;
	readonly cpus?: readonly number[] | undefined;
	readonly formats?: FormatCache | undefined;
}

/**
 * Record an instance's trace_pipe_raw pages (consuming them) into a capture
 * file at `path`, until `signal` aborts or, with `untilEmpty`, the buffers
 * are drained. The header carries the formats of the events enabled in the
 * instance; formats of other ids seen go in the trailer. Reads are
 * O_NONBLOCK with polling, as in readTraceRaw. Throws TracefsError; on
 * failure the partial file is left without trailer. The caller owns the file.
 */
export async function recordCapture(instance: Instance, path: string, options: RecordCaptureOptions = {}): Promise<CaptureSummary> {
	const {layout, headerPage, headerEvent} = await instancePageLayout(instance);
	const formats = options.formats ?? FormatCache.forInstance(instance);
	const enabled = await formats.loadEnabled();
	const texts = (list: ReturnType<FormatCache['formats']>): FormatText[] => list.flatMap(format => {
		const text = formats.textOf(format);
		return text === undefined ? [] : [{system: format.system, text}];
	});
	const cpus = options.cpus ?? await instanceCpus(instance);
	const names = await readTaskNames(instance);
	const clock = /\[(\w+)\]/.exec(await instance.read('trace_clock').catch(() => ''))?.[1];
	const statsBefore = await readAllCpuStats(instance, cpus).catch(() => undefined);
	const writer = await CaptureWriter.create(path, {
		format: 'ftrace-ts capture',
		version: 1,
		pageSize: layout.pageSize,
		littleEndian: layout.littleEndian,
		headerPage,
		headerEvent,
		formats: texts(enabled),
		cpus,
		cmdlines: names.cmdlines,
		tgids: names.tgids,
		clock,
		kernel: release(),
		recordedAt: new Date().toISOString(),
		instance: instance.name,
	});
	const pipes: RawPipe[] = [];
	const seenIds = new Set<number>();
	let pagesWithLoss = 0;
	try {
		for (const cpu of cpus) {
			// eslint-disable-next-line no-await-in-loop
			pipes.push(await RawPipe.open(instance, cpu, layout.pageSize));
		}

		while (!options.signal?.aborted) {
			let any = false;
			for (const pipe of pipes) {
				for (let n = 0; n < 256; n++) {
					// eslint-disable-next-line no-await-in-loop
					const page = await pipe.read();
					if (!page) {
						break;
					}

					any = true;
					for (const id of pageEventIds(page, layout)) {
						seenIds.add(id);
					}

					if ((page.readUInt32LE(layout.commitOffset) & 0x8000_0000) !== 0) {
						pagesWithLoss++;
					}

					// eslint-disable-next-line no-await-in-loop
					await writer.writePage(pipe.cpu, page);
				}
			}

			if (!any) {
				if (options.untilEmpty) {
					break;
				}

				// eslint-disable-next-line no-await-in-loop
				await abortableSleep(options.pollIntervalMs ?? 100, options.signal);
			}
		}

		const extra: FormatText[] = [];
		for (const id of seenIds) {
			if (!formats.byId(id)) {
				// eslint-disable-next-line no-await-in-loop
				const format = await formats.loadId(id).catch(() => undefined);
				const text = format && formats.textOf(format);
				if (format && text !== undefined) {
					extra.push({system: format.system, text});
				}
			}
		}

		const end = await readTaskNames(instance);
		const statsAfter = await readAllCpuStats(instance, cpus).catch(() => undefined);
		await writer.close({cmdlines: end.cmdlines, tgids: end.tgids, formats: extra, statsBefore, statsAfter});
		const statsLost = statsAfter ? [...statsLosses(statsBefore, statsAfter)].reduce((sum, lost) => sum + (lost.count ?? 0), 0) : 0;
		return {path, pages: writer.pages, bytes: writer.bytes, pagesWithLoss, statsLost};
	} catch (error) {
		await writer.abandon();
		throw error;
	} finally {
		await Promise.all(pipes.map(async pipe => pipe.close()));
	}
}

/** An opened capture: its header, trailer and page index. */
export interface CaptureIndex {
	readonly header: CaptureHeader;
	readonly trailer: CaptureTrailer | undefined;
	readonly layout: PageLayout;
	/** File offsets of each CPU's pages, in order. */
	readonly pages: ReadonlyMap<number, number[]>;
}

async function readExactly(handle: FileHandle, length: number, position: number): Promise<Buffer> {
	const buffer = Buffer.alloc(length);
	const {bytesRead} = await handle.read(buffer, 0, length, position);
	return bytesRead === length ? buffer : buffer.subarray(0, bytesRead);
}

/** Read a capture's header, trailer and page index (one sequential pass). Throws TracefsError for a file that is not a capture. */
export async function indexCapture(handle: FileHandle, path: string): Promise<CaptureIndex> {
	const start = await readExactly(handle, 12, 0);
	if (start.length < 12 || !start.subarray(0, 8).equals(magic)) {
		throw new TracefsError(`${path} is not an ftrace-ts capture (bad magic)`, {operation: 'read capture', path, usage: true});
	}

	const headerLength = start.readUInt32LE(8);
	let header: CaptureHeader;
	try {
		header = JSON.parse((await readExactly(handle, headerLength, 12)).toString('utf8')) as CaptureHeader;
	} catch (error) {
		throw new TracefsError(`${path}: corrupt capture header`, {operation: 'read capture', path, cause: error, usage: true});
	}

	if (header.version !== 1) {
		throw new TracefsError(`${path}: capture version ${String(header.version)} is not supported`, {operation: 'read capture', path, usage: true});
	}

	checkHeaderEvent(header.headerEvent);
	const layout = parseHeaderPage(header.headerPage, header.pageSize, header.littleEndian);
	const pages = new Map<number, number[]>();
	let trailer: CaptureTrailer | undefined;
	// Scan block headers in large sequential chunks rather than one read per page.
	const chunkSize = 4 << 20;
	let position = 12 + headerLength;
	let chunk: Buffer = Buffer.alloc(0);
	let chunkStart = position;
	for (;;) {
		if (position + 8 > chunkStart + chunk.length) {
			// eslint-disable-next-line no-await-in-loop
			chunk = await readExactly(handle, chunkSize, position);
			chunkStart = position;
			if (chunk.length < 8) {
				break;
			}
		}

		const at = position - chunkStart;
		const cpu = chunk.readUInt32LE(at);
		const length = chunk.readUInt32LE(at + 4);
		if (cpu === trailerCpu) {
			// eslint-disable-next-line no-await-in-loop
			const json = await readExactly(handle, length, position + 8);
			try {
				trailer = JSON.parse(json.toString('utf8')) as CaptureTrailer;
			} catch {
				trailer = undefined;
			}

			break;
		}

		let list = pages.get(cpu);
		if (!list) {
			list = [];
			pages.set(cpu, list);
		}

		list.push(position + 8);
		position += 8 + length;
	}

	return {header, trailer, layout, pages};
}

/**
 * Read a capture file's events, the CPUs merged in time-stamp order
 * (a streaming k-way merge: memory stays flat however large the file).
 * Formats come from the file unless `options.formats` is given. Yields
 * LostEvents for pages flagged with missed events and, at the end, for the
 * per_cpu stats growth recorded in the trailer that those flags did not
 * count. Throws TracefsError for a file that cannot be read or is not a
 * capture; closes the file on every path.
 */
export async function * readCapture(path: string, options: RawReaderOptions = {}): AsyncGenerator<RawRecord> {
	let handle: FileHandle;
	try {
		handle = await open(path, 'r');
	} catch (error) {
		throw new TracefsError(`cannot open capture ${path}`, {operation: 'read capture', path, code: errnoCode(error), cause: error, usage: errnoCode(error) === 'ENOENT'});
	}

	try {
		const index = await indexCapture(handle, path);
		const {header, trailer, layout} = index;
		const formats = options.formats ?? FormatCache.fromFormats([...header.formats, ...(trailer?.formats ?? [])]);
		const table = new DecoderTable(formats, layout.littleEndian);
		const tasks = taskNames(`${header.cmdlines}\n${trailer?.cmdlines ?? ''}`, `${header.tgids}\n${trailer?.tgids ?? ''}`);
		const tried = new Set<number>();
		const cpus = [...index.pages.keys()].filter(cpu => !options.cpus || options.cpus.includes(cpu)).sort((a, b) => a - b);
		const cursors = cpus.map(cpu => ({cpu, offsets: index.pages.get(cpu)!, next: 0, records: [] as RawRecord[], at: 0}));
		const batch = 64;
		const inBand = new InBandLosses();
		// Progress in page bytes read, of all the pages of the CPUs read.
		const total = cursors.reduce((sum, cursor) => sum + (cursor.offsets.length * (layout.pageSize + 8)), 0);
		let done = 0;

		const refill = async (cursor: typeof cursors[number]): Promise<void> => {
			while (cursor.at >= cursor.records.length && cursor.next < cursor.offsets.length) {
				// Read runs of adjacent pages in one read.
				const first = cursor.offsets[cursor.next]!;
				let count = 1;
				while (count < batch && cursor.next + count < cursor.offsets.length && cursor.offsets[cursor.next + count] === first + (count * (layout.pageSize + 8))) {
					count++;
				}

				// eslint-disable-next-line no-await-in-loop
				const data = await readExactly(handle, (count * (layout.pageSize + 8)) - 8, first);
				const pages: Buffer[] = [];
				for (let i = 0; i < count; i++) {
					pages.push(data.subarray(i * (layout.pageSize + 8), (i * (layout.pageSize + 8)) + layout.pageSize));
				}

				cursor.next += count;
				done += count * (layout.pageSize + 8);
				options.progress?.(done, total);
				// eslint-disable-next-line no-await-in-loop
				cursor.records = await decodePages(pages, cursor.cpu, table, layout, tasks, tried);
				cursor.at = 0;
			}
		};

		for (const cursor of cursors) {
			// eslint-disable-next-line no-await-in-loop
			await refill(cursor);
		}

		for (;;) {
			if (options.signal?.aborted) {
				return;
			}

			let best: typeof cursors[number] | undefined;
			let bestTs = 0n;
			for (const cursor of cursors) {
				const record = cursor.records[cursor.at];
				if (record) {
					const ts = record.timestampNs ?? 0n;
					if (!best || ts < bestTs) {
						best = cursor;
						bestTs = ts;
					}
				}
			}

			if (!best) {
				break;
			}

			yield inBand.note(best.records[best.at++]!);
			if (best.at >= best.records.length) {
				// eslint-disable-next-line no-await-in-loop
				await refill(best);
			}
		}

		if (options.statsLoss !== false && trailer?.statsAfter) {
			yield * statsLosses(trailer.statsBefore, trailer.statsAfter, inBand);
		}
	} finally {
		await handle.close().catch(() => undefined);
	}
}
