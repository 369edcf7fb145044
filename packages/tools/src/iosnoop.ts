/**
 * iosnoop core: block I/O with latency, one record per completed request.
 * A request is matched from its issue (or, with `queue`, its insert) to its
 * completion by (dev, sector), both read by field name from the decoded
 * events, so kernels that add fields (6.x's ioprio) change nothing.
 */
import {UsageError} from './cli.js';
import {legacyBlockFormats} from './legacy-formats.js';
import {countGapsAside, replayGapsAtMost, traceInputFields, type InputFields} from './trace-input.js';
import {iotypeRegExp, parseDevice, parseIotype, parsePattern, parsePid, parseSeconds, pidFilter, threadsOf, type BlockDevice} from './tool-options.js';
import {fieldNumber, fieldString, type ToolLost, type ToolStart} from './tool-records.js';
import {readAllCpuStats, type Instance, type Tracefs} from '@ftrace-ts/tracefs';
import {LiveGaps} from './live-gaps.js';
import {printedSeconds} from './iosnoop-rows.js';
import {PendingRequests, type PendingRequest} from './pending-requests.js';

export interface IosnoopOptions {
	/** Use block_rq_insert as the start time (includes queueing). */
	readonly queue?: boolean | undefined;
	/** "major,minor". */
	readonly device?: string | undefined;
	/** rwbs glob, eg "*R*". */
	readonly iotype?: string | undefined;
	/** Issuing process (all its threads). */
	readonly pid?: number | undefined;
	/** Issuing process name, a regular expression. */
	readonly name?: string | undefined;
	/** Buffered mode: trace this many seconds, then report. */
	readonly durationSeconds?: number | undefined;
	/** Analyse a recorded trace instead of the kernel. */
	readonly replay?: string | undefined;
	readonly replayFormats?: ReadonlyArray<{readonly system: string; readonly text: string}> | undefined;
	/**
	 * A piece of a split replay (iosnoopTo with segment hooks): only the
	 * lines that start at a byte in [from, to), of a file known to hold no
	 * gap (no lost-events or buffer-started line).
	 */
	readonly replayRange?: {readonly from: number; readonly to: number} | undefined;
	readonly tracefs?: Tracefs | undefined;
}

/** One completed block I/O. */
export interface IosnoopIo {
	readonly type: 'io';
	/** Issuing task (the one on-CPU at issue or insert). */
	readonly comm: string;
	readonly pid: number;
	/** rwbs of the completion: R, W, RM, WS, FWS... */
	readonly rwbs: string;
	/** "major,minor". */
	readonly dev: string;
	readonly sector: number;
	readonly bytes: number;
	/** Latency in milliseconds, exact to the trace clock's resolution. */
	readonly latencyMs: number;
	/** Start and end times, seconds, as the trace clock printed them ("7269912.982162"). */
	readonly start: string;
	readonly end: string;
}

export type IosnoopRecord = ToolStart | ToolLost | IosnoopIo;

/** Per-CPU buffer for the instance (as the original's 4 MB). */
export const iosnoopBufferKb = 4096;

/** Validate options; throws UsageError naming the bad one. */
export function checkIosnoopOptions(options: IosnoopOptions): {device?: BlockDevice | undefined; name?: RegExp | undefined; tids?: number[] | undefined} {
	if (options.pid !== undefined && options.name !== undefined) {
		throw new UsageError('use either -p or -n');
	}

	const live = options.replay === undefined;
	const device = options.device === undefined ? undefined : parseDevice(options.device, {mustExist: live});
	if (options.iotype !== undefined) {
		parseIotype(options.iotype);
	}

	const name = options.name === undefined ? undefined : parsePattern(options.name, 'process name');
	let tids: number[] | undefined;
	if (options.pid !== undefined) {
		tids = live ? threadsOf(parsePid(options.pid)) : [options.pid];
	}

	if (options.durationSeconds !== undefined) {
		parseSeconds(options.durationSeconds, 'duration');
	}

	return {device, name, tids};
}

/**
 * A completed request as values, for sinks that print rows without
 * building records (iosnoopTo). Times are the trace clock's: whole seconds
 * and nanoseconds.
 */
export interface IosnoopRow {
	readonly comm: string;
	readonly pid: number;
	readonly rwbs: string;
	/** The kernel's dev_t: major << 20 | minor. */
	readonly dev: number;
	readonly sector: number;
	readonly bytes: number;
	readonly startSeconds: number;
	readonly startNanoseconds: number;
	readonly endSeconds: number;
	readonly endNanoseconds: number;
}

/** Where iosnoopTo puts what it finds, in trace order. */
export interface IosnoopSink {
	/** A completed request. The row may be reused after the call: read it now. */
	io(row: IosnoopRow): void;
	lost(gap: ToolLost): void;
	/**
	 * A piece of a split replay: a completion whose issue is not in this
	 * piece (it may be in an earlier one). The row has the completion's
	 * values; comm, pid and the start time are empty, and `bytes` holds the
	 * completion's sector count. Without it such completions are dropped.
	 */
	unpaired?(row: IosnoopRow): void;
	/** A piece of a split replay: a (dev, sector) issued (each issue, in order). */
	issued?(dev: number, sector: number): void;
	/** A piece of a split replay, at its end: each issue still waiting for its completion. */
	waiting?(dev: number, sector: number, pending: IosnoopPending): void;
}

/**
 * Rows held at most while another thread counts a replay's gaps; then the
 * replay waits for the count. FTRACE_TS_GAPS_HOLD_ROWS overrides it (tests).
 */
const maxHeldWhileCounting = /^\d+$/.test(process.env['FTRACE_TS_GAPS_HOLD_ROWS'] ?? '') ? Number(process.env['FTRACE_TS_GAPS_HOLD_ROWS']) : 65_536;

/** An issue waiting for its completion. */
export type IosnoopPending = PendingRequest;

/** Row values that can be refilled. */
type MutableRow = {-readonly [K in keyof IosnoopRow]: IosnoopRow[K]};

/**
 * Trace block I/O until `signal` aborts (live), for the duration (buffered),
 * or to the end of a replay. Yields a start record, then one record per
 * completed request and one per gap of lost events. Throws UsageError for bad
 * options (before touching the kernel) and TracefsError when the kernel
 * refuses; everything it set up is undone on every exit.
 */
export async function * iosnoop(options: IosnoopOptions, signal?: AbortSignal): AsyncGenerator<IosnoopRecord> {
	for await (const records of iosnoopBatches(options, signal)) {
		yield * records;
	}
}

/**
 * iosnoop's records, the same and in the same order, in batches (a
 * replay's come a chunk of the file at a time; live records as they come).
 * Throws as iosnoop.
 */
export async function * iosnoopBatches(options: IosnoopOptions, signal?: AbortSignal): AsyncGenerator<readonly IosnoopRecord[]> {
	let out: IosnoopRecord[] = [];
	const devTexts = new Map<number, string>();
	const devText = (dev: number): string => {
		let text = devTexts.get(dev);
		if (text === undefined) {
			text = `${Math.floor(dev / 1_048_576)},${dev % 1_048_576}`;
			devTexts.set(dev, text);
		}

		return text;
	};

	const sink: IosnoopSink = {
		io(row) {
			out.push({
				type: 'io',
				comm: row.comm,
				pid: row.pid,
				rwbs: row.rwbs,
				dev: devText(row.dev),
				sector: row.sector,
				bytes: row.bytes,
				latencyMs: nanosecondsBetween(row.startSeconds, row.startNanoseconds, row.endSeconds, row.endNanoseconds) / 1e6,
				start: printedSeconds(row.startSeconds, row.startNanoseconds),
				end: printedSeconds(row.endSeconds, row.endNanoseconds),
			});
		},
		lost(gap) {
			out.push(gap);
		},
	};
	for await (const start of iosnoopTo(options, sink, signal)) {
		if (start) {
			yield [start];
		} else if (out.length > 0) {
			const ready = out;
			out = [];
			yield ready;
		}
	}

	if (out.length > 0) {
		yield out;
	}
}

/**
 * iosnoop, with the completed requests and gaps given to `sink` as they
 * are found, without a record per request: for printing long replays.
 * Yields the start record, then undefined whenever the sink may have
 * something to pass on (after each chunk of a replay, each live event).
 * Throws as iosnoop.
 */
export async function * iosnoopTo(options: IosnoopOptions, sink: IosnoopSink, signal?: AbortSignal): AsyncGenerator<ToolStart | undefined> {
	const {device, name, tids} = checkIosnoopOptions(options);
	const startEvent = options.queue ? 'block_rq_insert' : 'block_rq_issue';
	const rwbsMatch = options.iotype === undefined ? undefined : iotypeRegExp(options.iotype);
	const tidSet = tids === undefined ? undefined : new Set(tids);
	const pending = new PendingRequests();
	// A buffer dump (buffered mode, replay) whose CPUs overflowed starts each
	// CPU's data at a different time: before the last CPU's start ("buffer
	// started" gap), other CPUs' events are missing, so a pair seen there may
	// join an issue to another request's completion. Rows are held while a
	// later gap is possible, and those that began before the gap are dropped.
	const batch = options.durationSeconds !== undefined || options.replay !== undefined;
	let gapsAhead = 0;
	let gapsSeen = 0;
	// A long replay's gaps are counted by another thread while this one reads: rows are held until the count comes.
	let gapCount: number | undefined;
	let gapsCounting = false;
	let gapsCounted: Promise<void> | undefined;
	if (batch && options.replayRange === undefined) {
		if (options.replay !== undefined && await countGapsAside(options.replay)) {
			gapsAhead = Number.POSITIVE_INFINITY;
			gapsCounting = true;
			gapsCounted = replayGapsAtMost(options.replay, {thread: true}).then(count => {
				gapCount = count;
			});
		} else {
			gapsAhead = options.replay === undefined ? Number.POSITIVE_INFINITY : await replayGapsAtMost(options.replay);
		}
	}

	let held: IosnoopRow[] = [];
	let gapOpen = false;
	const releaseHeld = (): void => {
		for (const io of held) {
			sink.io(io);
		}

		held = [];
	};

	/** The count of gaps came: holding can end after the last (between chunks, so that rows keep their order). */
	const countCame = (): void => {
		gapsCounting = false;
		gapsAhead = gapCount! - gapsSeen;
		if (!gapOpen && gapsAhead <= 0) {
			releaseHeld();
		}
	};

	// Live: rows wait until the loss counters are read after them (see LiveGaps).
	const liveGaps = batch ? undefined : new LiveGaps<IosnoopRow>();
	let instance: Instance | undefined;
	let countersReadAt = 0;
	const row: MutableRow = {comm: '', pid: 0, rwbs: '', dev: 0, sector: 0, bytes: 0, startSeconds: 0, startNanoseconds: 0, endSeconds: 0, endNanoseconds: 0};

	/** The first event after a gap marks where every CPU has data again. */
	const closeGap = (seconds: number, nanoseconds: number): void => {
		gapOpen = false;
		held = held.filter(io => io.startSeconds > seconds || (io.startSeconds === seconds && io.startNanoseconds >= nanoseconds));
		if (gapsAhead <= 0) {
			releaseHeld();
		}
	};

	const begin = (dev: number, sector: number, comm: string, pid: number, seconds: number, nanoseconds: number, bytes: number): void => {
		sink.issued?.(dev, sector);
		pending.set(dev, sector, comm, pid, seconds, nanoseconds, bytes);
	};

	const complete = (dev: number, sector: number, rwbs: string, sectors: number, seconds: number, nanoseconds: number): void => {
		const slot = pending.find(dev, sector);
		if ((rwbsMatch && !rwbsMatch.test(rwbs)) || (slot === -1 && !sink.unpaired)) {
			return;
		}

		row.rwbs = rwbs;
		row.dev = dev;
		row.sector = sector;
		row.endSeconds = seconds;
		row.endNanoseconds = nanoseconds;
		if (slot === -1) {
			// A piece of a split replay: its issue may be in an earlier piece.
			row.comm = '';
			row.pid = 0;
			row.bytes = sectors;
			row.startSeconds = 0;
			row.startNanoseconds = 0;
			sink.unpaired!(row);
			return;
		}

		row.comm = pending.comm(slot);
		row.pid = pending.pid(slot);
		row.bytes = bytesOf(sectors, pending.bytes(slot));
		row.startSeconds = pending.seconds(slot);
		row.startNanoseconds = pending.nanoseconds(slot);
		pending.delete(slot);
		if (gapOpen || gapsAhead > 0) {
			held.push({...row});
		} else if (liveGaps) {
			liveGaps.hold({...row}, seconds, nanoseconds);
		} else {
			sink.io(row);
		}
	};

	const forgetBegun = (): void => {
		pending.clear();
	};

	/** Live: read the loss counters, drop the rows a gap may have joined wrongly, pass on the rest. */
	const releaseChecked = async (): Promise<void> => {
		countersReadAt = Date.now();
		const stats = instance && await readAllCpuStats(instance).catch(() => undefined);
		if (stats && liveGaps!.counters(stats)) {
			forgetBegun();
		}

		for (const io of liveGaps!.release()) {
			sink.io(io);
		}
	};

	const fields: InputFields = {
		events: [startEvent, 'block_rq_complete'],
		numbers: ['dev', 'sector', 'nr_sector', 'bytes'],
		strings: ['rwbs'],
		event(line) {
			if (gapOpen) {
				closeGap(line.seconds, line.nanoseconds);
			}

			const {numbers} = line;
			const dev = numbers[0]!;
			const sector = numbers[1]!;
			if (Number.isNaN(dev) || Number.isNaN(sector) || (device && dev !== device.dev)) {
				return;
			}

			if (line.event === 0) {
				if (tidSet && !tidSet.has(line.pid)) {
					return;
				}

				const comm = line.comm();
				if ((name && !name.test(comm)) || (rwbsMatch && !rwbsMatch.test(line.text(0) ?? ''))) {
					return;
				}

				begin(dev, sector, comm, line.pid, line.seconds, line.nanoseconds, numbers[3]!);
			} else {
				const sectors = numbers[2]!;
				complete(dev, sector, line.text(0) ?? '', Number.isNaN(sectors) ? 0 : sectors, line.seconds, line.nanoseconds);
			}
		},
		record(record) {
			if (record.kind === 'lost') {
				// Across a gap an issue may have lost its completion: pairing it with a
				// later completion of the same sector would print a wrong latency.
				liveGaps?.marker(record.cpu);
				forgetBegun();

				gapOpen = batch;
				gapsAhead--;
				gapsSeen++;
				sink.lost({type: 'lost', count: record.count, cpu: record.cpu});
				return;
			}

			if (record.kind !== 'event') {
				return;
			}

			const seconds = Number(record.timestampNs / 1_000_000_000n);
			const nanoseconds = Number(record.timestampNs % 1_000_000_000n);
			liveGaps?.seen(record.cpu, seconds, nanoseconds);
			if (gapOpen) {
				closeGap(seconds, nanoseconds);
			}

			const dev = fieldNumber(record, 'dev');
			const sector = fieldNumber(record, 'sector');
			if (dev === undefined || sector === undefined || (device && dev !== device.dev)) {
				return;
			}

			if (record.event === startEvent) {
				if ((tidSet && !tidSet.has(record.pid)) || (name && !name.test(record.comm)) || (rwbsMatch && !rwbsMatch.test(fieldString(record, 'rwbs') ?? ''))) {
					return;
				}

				begin(dev, sector, record.comm, record.pid, seconds, nanoseconds, fieldNumber(record, 'bytes') ?? Number.NaN);
			} else if (record.event === 'block_rq_complete') {
				complete(dev, sector, fieldString(record, 'rwbs') ?? '', fieldNumber(record, 'nr_sector') ?? 0, seconds, nanoseconds);
			}
		},
	};

	const input = traceInputFields({
		tool: 'iosnoop',
		signal,
		bufferSizeKb: iosnoopBufferKb,
		durationSeconds: options.durationSeconds,
		replay: options.replay,
		replayFormats: options.replayFormats ?? legacyBlockFormats,
		replayRange: options.replayRange,
		tracefs: options.tracefs,
		fields,
		async setup(session) {
			instance = session.instance;
			const filters: string[] = [];
			if (options.iotype !== undefined) {
				filters.push(`rwbs ~ "${options.iotype}"`);
			}

			if (device) {
				filters.push(`dev == ${device.dev}`);
			}

			const startFilters = tids ? [...filters, `(${pidFilter(tids)})`] : filters;
			const start = {system: 'block', event: startEvent};
			const complete = {system: 'block', event: 'block_rq_complete'};
			if (startFilters.length > 0) {
				await instance.setEventFilter(start, startFilters.join(' && '));
			}

			if (filters.length > 0) {
				await instance.setEventFilter(complete, filters.join(' && '));
			}

			await instance.enableEvent(start);
			await instance.enableEvent(complete);
		},
	});

	for await (const item of input) {
		if (item.kind === 'started') {
			if (liveGaps) {
				// The counters' baseline.
				await releaseChecked();
			}

			yield {type: 'start', mode: item.mode, mechanism: `block:${startEvent} -> block:block_rq_complete`};
			continue;
		}

		if (gapsCounting && gapCount === undefined && held.length >= maxHeldWhileCounting) {
			// Memory stays flat: a long file's count is waited for once this many rows wait.
			// eslint-disable-next-line no-await-in-loop
			await gapsCounted;
		}

		if (gapsCounting && gapCount !== undefined) {
			countCame();
		}

		// At once when the pipe is empty; while events keep coming, every 100 ms.
		if (liveGaps && liveGaps.held > 0 && (item.idle || Date.now() - countersReadAt >= 100)) {
			await releaseChecked();
		}

		yield undefined;
	}

	for (const io of [...held, ...liveGaps?.release() ?? []]) {
		sink.io(io);
	}

	if (sink.waiting) {
		for (const [dev, sector, waiting] of pending.entries()) {
			sink.waiting(dev, sector, waiting);
		}
	}

	yield undefined;
}

/** BYTES of a completed request: its sectors, or (a completion of 0 sectors) the bytes its issue gave. */
export function requestBytes(sectors: number, issue: IosnoopPending): number {
	return bytesOf(sectors, issue.bytes ?? Number.NaN);
}

/** requestBytes with the issue's bytes as a number (NaN: none). */
function bytesOf(sectors: number, issueBytes: number): number {
	return sectors > 0 ? sectors * 512 : sectors === 0 && !Number.isNaN(issueBytes) ? issueBytes : 0;
}

/** Nanoseconds from one timestamp to another (exact while under 2^53). */
function nanosecondsBetween(fromSeconds: number, fromNanoseconds: number, toSeconds: number, toNanoseconds: number): number {
	const seconds = toSeconds - fromSeconds;
	if (Math.abs(seconds) < 9_000_000) {
		return (seconds * 1e9) + toNanoseconds - fromNanoseconds;
	}

	return Number(((BigInt(toSeconds) * 1_000_000_000n) + BigInt(toNanoseconds)) - ((BigInt(fromSeconds) * 1_000_000_000n) + BigInt(fromNanoseconds)));
}
