/**
 * iolatency core: block I/O latency as a power-of-two millisecond histogram
 * per interval. Requests are paired from issue (or insert) to completion by
 * (dev, sector), read by field name from the decoded events.
 */
import type {Tracefs} from '@ftrace-ts/tracefs';
import {UsageError} from './cli.js';
import {legacyBlockFormats} from './legacy-formats.js';
import {LiveGaps} from './live-gaps.js';
import {traceInput, type InputRecord, type TraceStarted} from './trace-input.js';
import {iotypeRegExp, parseCount, parseDevice, parseIotype, parseSeconds} from './tool-options.js';
import {fieldNumber, fieldString, secondsText, type ToolLost, type ToolStart} from './tool-records.js';
import {sleepUnlessAborted} from './session.js';

export interface IolatencyOptions {
	readonly queue?: boolean | undefined;
	readonly device?: string | undefined;
	readonly iotype?: string | undefined;
	/** Seconds per summary (default 1). */
	readonly intervalSeconds?: number | undefined;
	/** Number of summaries (default: until aborted, or the end of a replay). */
	readonly count?: number | undefined;
	readonly replay?: string | undefined;
	readonly replayFormats?: ReadonlyArray<{readonly system: string; readonly text: string}> | undefined;
	readonly tracefs?: Tracefs | undefined;
}

/** One histogram row: I/O with fromMs <= latency < toMs (the first row is 0 -> 1). */
export interface LatencyBucket {
	readonly fromMs: number;
	readonly toMs: number;
	readonly count: number;
}

export interface IolatencySummary {
	readonly type: 'summary';
	/** Wall-clock time of the summary (trace time for replays). */
	readonly time: string;
	/** Rows from 0 -> 1 up to the largest latency seen in the interval. */
	readonly buckets: readonly LatencyBucket[];
	readonly total: number;
}

export type IolatencyRecord = ToolStart | ToolLost | IolatencySummary;

/** The original's bucket index: 0 for latency <= 1 ms, then i for 2^(i-1) < latency <= 2^i. */
export function bucketIndex(latencyMs: number): number {
	let index = 0;
	for (let ms = 1; latencyMs > ms; ms *= 2) {
		index++;
	}

	return index;
}

/** Counts per bucket index, summarized into rows 0..max. */
export class LatencyHistogram {
	#counts: number[] = [];

	add(latencyMs: number): void {
		const index = bucketIndex(latencyMs);
		this.#counts[index] = (this.#counts[index] ?? 0) + 1;
	}

	/** The rows so far (at least the 0 -> 1 row), then reset. */
	take(): {buckets: LatencyBucket[]; total: number} {
		const counts = this.#counts;
		this.#counts = [];
		const buckets: LatencyBucket[] = [];
		let total = 0;
		for (let i = 0, from = 0, to = 1; i < Math.max(1, counts.length); i++, from = to, to *= 2) {
			const count = counts[i] ?? 0;
			total += count;
			buckets.push({fromMs: from, toMs: to, count});
		}

		return {buckets, total};
	}
}

/** The original's bar: ceil(width * value / max) characters of '#'. */
export function bar(value: number, max: number, width = 38): string {
	if (max === 0) {
		return '';
	}

	let stars = '';
	for (let i = 0; i < (width * value) / max; i++) {
		stars += '#';
	}

	return stars;
}

function clock(date = new Date()): string {
	return [date.getHours(), date.getMinutes(), date.getSeconds()].map(part => String(part).padStart(2, '0')).join(':');
}

/** Validate options; throws UsageError. */
export function checkIolatencyOptions(options: IolatencyOptions): void {
	if (options.device !== undefined) {
		parseDevice(options.device, {mustExist: options.replay === undefined});
	}

	if (options.iotype !== undefined) {
		parseIotype(options.iotype);
	}

	if (options.intervalSeconds !== undefined) {
		parseSeconds(options.intervalSeconds, 'interval');
	}

	if (options.count !== undefined) {
		parseCount(options.count, 'count');
	}

	if (options.count !== undefined && options.intervalSeconds === undefined) {
		throw new UsageError('a count needs an interval');
	}
}

/**
 * Summarize block I/O latency every interval until `count` summaries, an
 * abort, or the end of a replay. Yields a start record (its mechanism says
 * which mode ran), then summaries and lost-event gaps. Everything set up is
 * undone on every exit.
 */
export async function * iolatency(options: IolatencyOptions, signal?: AbortSignal): AsyncGenerator<IolatencyRecord> {
	checkIolatencyOptions(options);
	const startEvent = options.queue ? 'block_rq_insert' : 'block_rq_issue';
	const device = options.device === undefined ? undefined : parseDevice(options.device, {mustExist: options.replay === undefined});
	const rwbs = options.iotype === undefined ? undefined : iotypeRegExp(options.iotype);
	const intervalMs = (options.intervalSeconds ?? 1) * 1000;
	const histogram = new LatencyHistogram();
	const starts = new Map<string, number>();
	const mechanism = `stream: block:${startEvent} -> block:block_rq_complete paired in user space`;

	// The reader runs on its own; summaries are taken on a timer.
	const stop = new AbortController();
	const onAbort = () => stop.abort();
	signal?.addEventListener('abort', onAbort, {once: true});
	const input = traceInput({
		tool: 'iolatency',
		signal: stop.signal,
		bufferSizeKb: 4096,
		replay: options.replay,
		replayFormats: options.replayFormats ?? legacyBlockFormats,
		tracefs: options.tracefs,
		async setup(session) {
			const filters: string[] = [];
			if (options.iotype !== undefined) {
				filters.push(`rwbs ~ "${options.iotype}"`);
			}

			if (device) {
				filters.push(`dev == ${device.dev}`);
			}

			for (const event of [startEvent, 'block_rq_complete']) {
				const id = {system: 'block', event};
				if (filters.length > 0) {
					await session.instance.setEventFilter(id, filters.join(' && '));
				}

				await session.instance.enableEvent(id);
			}
		},
	});

	const pendingOut: Array<ToolLost | ToolStart | IolatencySummary> = [];
	let wake: (() => void) | undefined;
	const notify = () => {
		wake?.();
		wake = undefined;
	};

	// Each CPU's gap shows only with its next event, and trace_pipe merges
	// the CPUs by time: other CPUs' events since that CPU's last one come
	// first, and a request paired there may have had its completion (and
	// the next issue of its sector) in the gap. The interval's latencies
	// wait in LiveGaps, which drops those a gap's marker may have joined
	// wrongly, and go into the histogram when the interval is summarized.
	const joined = new LiveGaps<number>();
	const takeSummary = () => {
		for (const latencyMs of joined.release()) {
			histogram.add(latencyMs);
		}

		return histogram.take();
	};

	let replayBoundary: number | undefined;
	let lastTraceTime = 0;
	const consume = (async () => {
		for await (const record of input as AsyncIterable<InputRecord | TraceStarted>) {
			if (record.kind === 'started') {
				pendingOut.push({type: 'start', mode: record.mode, mechanism});
				notify();
				continue;
			}

			if (record.kind === 'lost') {
				// Pairs across a gap would be wrong: forget the open requests,
				// and take back those joined across it.
				starts.clear();
				joined.marker(record.cpu);
				pendingOut.push({type: 'lost', count: record.count, cpu: record.cpu});
				notify();
				continue;
			}

			if (record.kind !== 'event') {
				continue;
			}

			const seconds = Number(secondsText(record.timestampNs));
			const whole = Number(record.timestampNs / 1_000_000_000n);
			const nanoseconds = Number(record.timestampNs % 1_000_000_000n);
			joined.seen(record.cpu, whole, nanoseconds);
			const dev = fieldNumber(record, 'dev');
			const sector = fieldNumber(record, 'sector');
			if (dev === undefined || sector === undefined || (device && dev !== device.dev) || (rwbs && !rwbs.test(fieldString(record, 'rwbs') ?? ''))) {
				continue;
			}

			if (options.replay !== undefined && options.intervalSeconds !== undefined) {
				replayBoundary ??= seconds + options.intervalSeconds;
				while (seconds >= replayBoundary) {
					pendingOut.push({type: 'summary', time: secondsText(BigInt(Math.round(replayBoundary * 1e9))), ...takeSummary()});
					replayBoundary += options.intervalSeconds;
				}
			}

			lastTraceTime = seconds;
			const key = `${dev}:${sector}`;
			if (record.event === startEvent) {
				starts.set(key, seconds);
			} else if (record.event === 'block_rq_complete') {
				const start = starts.get(key);
				if (start !== undefined) {
					starts.delete(key);
					joined.hold(1000 * (seconds - start), whole, nanoseconds);
				}
			}
		}
	})();
	let failure: unknown;
	let done = false;
	void consume.then(() => {
		done = true;
		notify();
	}, (error: unknown) => {
		failure = error;
		done = true;
		notify();
	});

	try {
		let emitted = 0;
		let started = false;
		summaries: for (;;) {
			while (pendingOut.length > 0) {
				const out = pendingOut.shift()!;
				if (out.type === 'start') {
					started = true;
				}

				if (out.type === 'summary') {
					emitted++;
				}

				yield out;
				if (options.count !== undefined && emitted >= options.count) {
					break summaries;
				}
			}

			if (failure !== undefined) {
				throw failure;
			}

			if (done || signal?.aborted) {
				break;
			}

			if (!started || options.replay !== undefined) {
				// eslint-disable-next-line no-await-in-loop
				await new Promise<void>(resolve => {
					wake = resolve;
				});
				continue;
			}

			// eslint-disable-next-line no-await-in-loop
			await sleepUnlessAborted(intervalMs, signal);
			if (signal?.aborted) {
				break;
			}

			pendingOut.push({type: 'summary', time: clock(), ...takeSummary()});
		}

		// A live reader's last word: events overwritten since its last read
		// are only known from the per_cpu stats it reads as it ends.
		stop.abort();
		await consume.catch(() => undefined);
		for (const out of pendingOut.splice(0)) {
			if (out.type === 'lost' && options.replay === undefined) {
				yield out;
			}
		}

		if (failure !== undefined) {
			throw failure;
		}

		if (options.replay !== undefined && (options.count === undefined || emitted < options.count)) {
			yield {type: 'summary', time: secondsText(BigInt(Math.round(lastTraceTime * 1e9))), ...takeSummary()};
		}
	} finally {
		signal?.removeEventListener('abort', onAbort);
		stop.abort();
		await consume.catch(() => undefined);
	}
}
