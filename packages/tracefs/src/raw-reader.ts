/**
 * The binary reader: per_cpu/cpuN/trace_pipe_raw pages decoded with the
 * events' formats, the CPUs merged in timestamp order, lost events reported.
 */
import {constants as fsConstants} from 'node:fs';
import {open, type FileHandle} from 'node:fs/promises';
import {TracefsError, errnoCode} from './errors.js';
import {FormatCache} from './format-cache.js';
import type {Instance} from './instance.js';
import {checkHeaderEvent, compileRecordDecoder, decodePage, parseHeaderPage, taskNames, type PageDecodeContext, type PageLayout, type RecordDecoder, type TaskNames} from './ring-buffer.js';
import {instanceCpus, readAllCpuStats} from './cpu-stats.js';
import {InBandLosses, abortableSleep, statsLosses, type FileProgress} from './text-reader.js';
import type {LostEvents, TraceEvent} from './trace-record.js';
import {readCapture} from './capture.js';

/** What the binary readers yield. */
export type RawRecord = TraceEvent | LostEvents;

/** Options of readTraceRaw. */
export interface RawReaderOptions {
	/** Formats; default: loaded from the instance (or, for captures, from the file). */
	readonly formats?: FormatCache | undefined;
	/** Stops reading; the iterator ends normally. Pending reads are not blocking (see below). */
	readonly signal?: AbortSignal | undefined;
	/** CPUs to read; default all. */
	readonly cpus?: readonly number[] | undefined;
	/** Captures (readCapture): called as pages are read, with the page bytes read so far and of how many. */
	readonly progress?: FileProgress | undefined;
	/** Live: end once every CPU's buffer is empty (drain). Default false: run until aborted. */
	readonly untilEmpty?: boolean | undefined;
	/** Live: sleep between polls of empty buffers. Default 100 ms. */
	readonly pollIntervalMs?: number | undefined;
	/** Live: yield per_cpu stats losses (overrun, dropped growth, less what pages' flags counted) at the end. Default true. */
	readonly statsLoss?: boolean | undefined;
}

/**
 * Merge per-CPU record lists (each in time order) into one time-ordered
 * list. Lost markers sort by their page time stamp.
 */
export function mergeByTimestamp(lists: ReadonlyArray<readonly RawRecord[]>): RawRecord[] {
	const nonEmpty = lists.filter(list => list.length > 0);
	if (nonEmpty.length <= 1) {
		return [...(nonEmpty[0] ?? [])];
	}

	const out: RawRecord[] = [];
	const index = nonEmpty.map(() => 0);
	for (;;) {
		let best = -1;
		let bestTs = 0n;
		for (const [i, list] of nonEmpty.entries()) {
			const record = list[index[i]!];
			if (!record) {
				continue;
			}

			const ts = record.timestampNs ?? 0n;
			if (best === -1 || ts < bestTs) {
				best = i;
				bestTs = ts;
			}
		}

		if (best === -1) {
			return out;
		}

		out.push(nonEmpty[best]![index[best]!]!);
		index[best]!++;
	}
}

/**
 * Read binary trace data: live from an instance's trace_pipe_raw files
 * (consuming them), or from a capture file written by recordCapture.
 * Yields events with fields by name and LostEvents where the kernel says
 * events were lost (page flags; per_cpu stats growth at the end).
 *
 * Live reading opens each CPU's trace_pipe_raw O_NONBLOCK: a blocking read
 * per CPU would hold one libuv threadpool thread each (4 by default, so 5+
 * CPUs would starve every other fs call) and could not be woken by close()
 * on abort. Instead each round reads every CPU until EAGAIN, merges the
 * round by time stamp, and sleeps `pollIntervalMs` only when all were empty.
 * Events of one round are in order; an event still being written during a
 * read can appear in the next round slightly out of order across CPUs.
 *
 * Throws TracefsError when the files cannot be opened or the layout is not
 * understood. The reader closes what it opens; the instance stays the caller's.
 */
export async function * readTraceRaw(source: Instance | string, options: RawReaderOptions = {}): AsyncGenerator<RawRecord> {
	if (typeof source === 'string') {
		yield * readCapture(source, options);
		return;
	}

	yield * readLive(source, options);
}

/** The page layout of an instance's ring buffer (header_page, header_event, sub-buffer size). Throws TracefsError. */
export async function instancePageLayout(instance: Instance): Promise<{layout: PageLayout; headerPage: string; headerEvent: string}> {
	const tracefs = instance.tracefs;
	const headerPage = await tracefs.readIfExists(instance.file('events/header_page')) ?? await tracefs.read('events/header_page');
	const headerEvent = await tracefs.readIfExists(instance.file('events/header_event')) ?? await tracefs.read('events/header_event');
	checkHeaderEvent(headerEvent);
	const subbuf = await tracefs.readIfExists(instance.file('buffer_subbuf_size_kb'));
	const pageSize = subbuf === undefined ? 4096 : Number.parseInt(subbuf, 10) * 1024;
	const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
	return {layout: parseHeaderPage(headerPage, pageSize, littleEndian), headerPage, headerEvent};
}

/** saved_cmdlines and saved_tgids of the tracefs (global). */
export async function readTaskNames(instance: Instance): Promise<{cmdlines: string; tgids: string}> {
	const cmdlines = await instance.tracefs.readIfExists('saved_cmdlines') ?? '';
	const tgids = await instance.tracefs.readIfExists('saved_tgids') ?? '';
	return {cmdlines, tgids};
}

/** A per-CPU trace_pipe_raw opened O_NONBLOCK. */
export class RawPipe {
	/** Open per_cpu/cpuN/trace_pipe_raw. Throws TracefsError. The caller closes it. */
	static async open(instance: Instance, cpu: number, pageSize: number): Promise<RawPipe> {
		const path = instance.path(`per_cpu/cpu${cpu}/trace_pipe_raw`);
		try {
			return new RawPipe(cpu, path, await open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK), pageSize);
		} catch (error) {
			throw new TracefsError(`cannot open ${path}`, {operation: 'open', path, code: errnoCode(error), cause: error, usage: false});
		}
	}

	private constructor(readonly cpu: number, readonly path: string, readonly handle: FileHandle, readonly pageSize: number) {}

	/** The next page (a fresh Buffer), or undefined when the buffer is empty now. Throws TracefsError. */
	async read(): Promise<Buffer | undefined> {
		const page = Buffer.allocUnsafe(this.pageSize);
		try {
			const {bytesRead} = await this.handle.read(page, 0, this.pageSize, null);
			if (bytesRead === 0) {
				return undefined;
			}

			if (bytesRead < this.pageSize) {
				page.fill(0, bytesRead);
			}

			return page;
		} catch (error) {
			if (errnoCode(error) === 'EAGAIN') {
				return undefined;
			}

			throw new TracefsError(`cannot read ${this.path}`, {operation: 'read', path: this.path, code: errnoCode(error), cause: error, usage: false});
		}
	}

	async close(): Promise<void> {
		await this.handle.close().catch(() => undefined);
	}
}

/** Decoders by event id over a FormatCache, compiled once per format. */
export class DecoderTable {
	readonly #byId = new Map<number, RecordDecoder>();
	constructor(readonly formats: FormatCache, readonly littleEndian = true) {}

	get(id: number): RecordDecoder | undefined {
		let decoder = this.#byId.get(id);
		if (!decoder) {
			const format = this.formats.byId(id);
			if (!format) {
				return undefined;
			}

			decoder = compileRecordDecoder(format, this.littleEndian);
			this.#byId.set(id, decoder);
		}

		return decoder;
	}
}

/**
 * Decode pages of one CPU, loading formats of unknown ids first (once per
 * id) when the cache can load them.
 */
export async function decodePages(pages: readonly Buffer[], cpu: number, table: DecoderTable, layout: PageLayout, tasks: TaskNames, triedIds: Set<number>): Promise<RawRecord[]> {
	const context: PageDecodeContext = {layout, decoderOf: id => table.get(id), tasks};
	const out: RawRecord[] = [];
	for (const page of pages) {
		const unknown = new Set<number>();
		let records = decodePage(page, cpu, context, id => unknown.add(id));
		const toLoad = [...unknown].filter(id => !triedIds.has(id));
		if (toLoad.length > 0) {
			for (const id of toLoad) {
				triedIds.add(id);
				// eslint-disable-next-line no-await-in-loop
				await table.formats.loadId(id).catch(() => undefined);
			}

			records = decodePage(page, cpu, context);
		}

		for (const record of records) {
			if (record.kind === 'event' && record.system === 'ftrace' && (record.event === 'kernel_stack' || record.event === 'user_stack')) {
				const previous = out.at(-1);
				if (previous?.kind === 'event' && previous.pid === record.pid && previous.system !== 'ftrace') {
					const frames = stackFrames(record);
					if (record.event === 'kernel_stack') {
						previous.stack = frames;
					} else {
						previous.userStack = frames;
					}

					continue;
				}
			}

			out.push(record);
		}
	}

	return out;
}

/** The return addresses of an ftrace kernel_stack / user_stack record, as 0x hex strings, innermost first. */
function stackFrames(record: TraceEvent): string[] {
	const callers = record.fields['caller'];
	const size = record.fields['size'];
	const count = typeof size === 'number' && record.event === 'kernel_stack' ? size : Number.POSITIVE_INFINITY;
	const frames: string[] = [];
	if (Array.isArray(callers)) {
		for (const address of callers.slice(0, count)) {
			if (address === 0 || address === 0n) {
				break;
			}

			frames.push(`0x${address.toString(16)}`);
		}
	}

	return frames;
}

async function * readLive(instance: Instance, options: RawReaderOptions): AsyncGenerator<RawRecord> {
	const {layout} = await instancePageLayout(instance);
	const formats = options.formats ?? FormatCache.forInstance(instance);
	await formats.loadEnabled();
	const table = new DecoderTable(formats, layout.littleEndian);
	const cpus = options.cpus ?? await instanceCpus(instance);
	const withStats = options.statsLoss !== false;
	const before = withStats ? await readAllCpuStats(instance, cpus).catch(() => undefined) : undefined;
	let names = await readTaskNames(instance);
	let tasks = taskNames(names.cmdlines, names.tgids);
	let tasksAt = Date.now();
	const tried = new Set<number>();
	const inBand = new InBandLosses();
	const pipes: RawPipe[] = [];
	try {
		for (const cpu of cpus) {
			// eslint-disable-next-line no-await-in-loop
			pipes.push(await RawPipe.open(instance, cpu, layout.pageSize));
		}

		while (!options.signal?.aborted) {
			const perCpu: Buffer[][] = [];
			let any = false;
			for (const pipe of pipes) {
				const pages: Buffer[] = [];
				// Bound a round so one busy CPU cannot hold the others' events back for long.
				for (let n = 0; n < 256; n++) {
					// eslint-disable-next-line no-await-in-loop
					const page = await pipe.read();
					if (!page) {
						break;
					}

					pages.push(page);
				}

				any ||= pages.length > 0;
				perCpu.push(pages);
			}

			if (!any) {
				if (options.untilEmpty) {
					break;
				}

				// eslint-disable-next-line no-await-in-loop
				await abortableSleep(options.pollIntervalMs ?? 100, options.signal);
				continue;
			}

			// Tasks seen for the first time are only in saved_cmdlines once they ran: re-read it
			// (a small file) before decoding, at most every 50 ms.
			if (Date.now() - tasksAt >= 50) {
				// eslint-disable-next-line no-await-in-loop
				names = await readTaskNames(instance);
				tasks = taskNames(names.cmdlines, names.tgids);
				tasksAt = Date.now();
			}

			const lists: RawRecord[][] = [];
			for (const [i, pages] of perCpu.entries()) {
				// eslint-disable-next-line no-await-in-loop
				lists.push(await decodePages(pages, pipes[i]!.cpu, table, layout, tasks, tried));
			}

			for (const record of mergeByTimestamp(lists)) {
				yield inBand.note(record);
			}
		}
	} finally {
		await Promise.all(pipes.map(async pipe => pipe.close()));
	}

	if (withStats) {
		const after = await readAllCpuStats(instance, cpus).catch(() => undefined);
		if (after) {
			yield * statsLosses(before, after, inBand);
		}
	}
}
