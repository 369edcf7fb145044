/**
 * iosnoop core: block I/O with latency, one record per completed request.
 * A request is matched from its issue (or, with `queue`, its insert) to its
 * completion by (dev, sector), both read by field name from the decoded
 * events, so kernels that add fields (6.x's ioprio) change nothing.
 */
import {UsageError} from './cli.js';
import {legacyBlockFormats} from './legacy-formats.js';
import {traceInputBatches, type InputEvent} from './trace-input.js';
import {iotypeRegExp, parseDevice, parseIotype, parsePattern, parsePid, parseSeconds, pidFilter, threadsOf, type BlockDevice} from './tool-options.js';
import {fieldNumber, fieldString, secondsText, type ToolLost, type ToolStart} from './tool-records.js';
import type {Tracefs} from '@ftrace-ts/tracefs';

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

interface Pending {
	readonly comm: string;
	readonly pid: number;
	readonly start: string;
	readonly startNs: bigint;
	readonly bytes: number | undefined;
}

/**
 * Trace block I/O until `signal` aborts (live), for the duration (buffered),
 * or to the end of a replay. Yields a start record, then one record per
 * completed request and one per gap of lost events. Throws UsageError for bad
 * options (before touching the kernel) and TracefsError when the kernel
 * refuses; everything it set up is undone on every exit.
 */
export async function * iosnoop(options: IosnoopOptions, signal?: AbortSignal): AsyncGenerator<IosnoopRecord> {
	const {device, name, tids} = checkIosnoopOptions(options);
	const startEvent = options.queue ? 'block_rq_insert' : 'block_rq_issue';
	const rwbsMatch = options.iotype === undefined ? undefined : iotypeRegExp(options.iotype);
	const tidSet = tids === undefined ? undefined : new Set(tids);
	// Keyed by dev, then sector: numbers, no key string per event.
	const pending = new Map<number, Map<number, Pending>>();
	// A buffer dump (buffered mode, replay) whose CPUs overflowed starts each
	// CPU's data at a different time: before the last CPU's start ("buffer
	// started" gap), other CPUs' events are missing, so a pair seen there may
	// join an issue to another request's completion. Hold the rows, and drop
	// those that began before the last gap.
	const batch = options.durationSeconds !== undefined || options.replay !== undefined;
	const held: Array<{io: IosnoopIo; startNs: bigint}> = [];
	let gapOpen = false;

	const input = traceInputBatches({
		tool: 'iosnoop',
		signal,
		bufferSizeKb: iosnoopBufferKb,
		durationSeconds: options.durationSeconds,
		replay: options.replay,
		replayFormats: options.replayFormats ?? legacyBlockFormats,
		tracefs: options.tracefs,
		async setup(session) {
			const instance = session.instance;
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
			yield {type: 'start', mode: item.mode, mechanism: `block:${startEvent} -> block:block_rq_complete`};
			continue;
		}

		for (const record of item.records) {
			if (record.kind === 'lost') {
				// Across a gap an issue may have lost its completion: pairing it with a
				// later completion of the same sector would print a wrong latency.
				pending.clear();
				gapOpen = batch;
				yield {type: 'lost', count: record.count, cpu: record.cpu};
				continue;
			}

			if (record.kind !== 'event') {
				continue;
			}

			if (gapOpen) {
				// The first event after the gap marks where every CPU has data again.
				gapOpen = false;
				const gapNs = record.timestampNs;
				for (let i = held.length - 1; i >= 0; i--) {
					if (held[i]!.startNs < gapNs) {
						held.splice(i, 1);
					}
				}
			}

			const dev = fieldNumber(record, 'dev');
			const sector = fieldNumber(record, 'sector');
			if (dev === undefined || sector === undefined) {
				continue;
			}

			if (device && dev !== device.dev) {
				continue;
			}

			let onDev = pending.get(dev);
			if (record.event === startEvent) {
				if ((tidSet && !tidSet.has(record.pid)) || (name && !name.test(record.comm)) || !matchesType(record, rwbsMatch)) {
					continue;
				}

				if (!onDev) {
					onDev = new Map();
					pending.set(dev, onDev);
				}

				onDev.set(sector, {comm: record.comm, pid: record.pid, start: printedSeconds(record.timestampNs), startNs: record.timestampNs, bytes: fieldNumber(record, 'bytes')});
			} else if (record.event === 'block_rq_complete') {
				const begun = onDev?.get(sector);
				if (!begun || !matchesType(record, rwbsMatch)) {
					continue;
				}

				onDev!.delete(sector);
				const end = printedSeconds(record.timestampNs);
				const sectors = fieldNumber(record, 'nr_sector') ?? 0;
				const io: IosnoopIo = {
					type: 'io',
					comm: begun.comm,
					pid: begun.pid,
					rwbs: fieldString(record, 'rwbs') ?? '',
					dev: `${Math.floor(dev / 1_048_576)},${dev % 1_048_576}`,
					sector,
					bytes: sectors > 0 ? sectors * 512 : sectors === 0 && begun.bytes !== undefined ? begun.bytes : 0,
					latencyMs: Number(record.timestampNs - begun.startNs) / 1e6,
					start: begun.start,
					end,
				};
				if (batch) {
					held.push({io, startNs: begun.startNs});
				} else {
					yield io;
				}
			}
		}
	}

	for (const {io} of held) {
		yield io;
	}
}

/** secondsText, without BigInt arithmetic while the nanoseconds are exact as a double. */
function printedSeconds(ns: bigint): string {
	if (ns < 0n || ns > maxSafeNs) {
		return secondsText(ns);
	}

	const value = Number(ns);
	const micros = (value - (value % 1000)) / 1000;
	const fraction = micros % 1_000_000;
	return `${(micros - fraction) / 1_000_000}.${String(fraction).padStart(6, '0')}`;
}

const maxSafeNs = BigInt(Number.MAX_SAFE_INTEGER);

function matchesType(record: InputEvent, rwbs: RegExp | undefined): boolean {
	return rwbs === undefined || rwbs.test(fieldString(record, 'rwbs') ?? '');
}
