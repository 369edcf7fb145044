/**
 * A long iosnoop replay split across threads: the whole pipeline (reading,
 * pairing, printing), not only the decoding. Each thread replays the lines
 * of one piece of the file (iosnoopTo with a replayRange) and prints its
 * rows; a completion whose issue is not in its piece leaves a hole, and the
 * piece reports every (dev, sector) it issued with the issue still waiting,
 * if any. This thread takes the pieces in file order and carries the
 * waiting issues from piece to piece: a hole takes the issue carried in for
 * its (dev, sector), if there is one; then the piece's own issues replace
 * the carried ones for the keys it issued. The output is byte for byte what
 * one thread prints. Only for files without gaps (lost events, buffers
 * started late), where pairing never depends on what was lost.
 */
import {stat} from 'node:fs/promises';
import {availableParallelism} from 'node:os';
import {Worker} from 'node:worker_threads';
import {checkIosnoopOptions, requestBytes, type IosnoopOptions, type IosnoopPending, type IosnoopRow} from './iosnoop.js';
import {RowWriter} from './iosnoop-rows.js';
import {replayGapsAtMost} from './trace-input.js';
import {replayProgress} from './replay-progress.js';
import {isCaptureFile} from './reader-adapter.js';

/** The options a piece's thread replays with (no tracefs, no formats: it finds its own). */
export type SplitOptions = Pick<IosnoopOptions, 'queue' | 'device' | 'iotype' | 'pid' | 'name'>;

export interface SplitSetup {
	readonly file: string;
	readonly options: SplitOptions;
	readonly showStart: boolean;
	readonly showEnd: boolean;
}

export interface PieceRequest {
	readonly piece: number;
	readonly from: number;
	readonly to: number;
}

/** A completion without its issue in the piece, before pieces[at]. */
export interface Hole {
	readonly at: number;
	readonly row: IosnoopRow;
}

export interface PieceReply {
	readonly piece: number;
	/** The piece's printed rows, in order, cut where holes are. */
	readonly pieces: Uint8Array[];
	readonly holes: Hole[];
	/** The (dev, sector) issues of the piece still waiting at its end. */
	readonly pending: Array<[number, number, IosnoopPending]>;
	/** Every (dev, sector) pair the piece issued, flat (waiting or not). */
	readonly done: Float64Array;
	readonly error?: string | undefined;
}

/** Default bytes per piece: each piece is a replay of its own, whose code warms up again. */
const pieceBytes = 32 << 20;

/**
 * How to split a replay, or undefined to replay it on one thread: a text
 * trace of at least two pieces without gaps, on a machine with 4 CPUs or
 * more (with 2, measured on a 2-vCPU VM: about 20% less wall time for
 * about 35% more CPU and twice the memory). FTRACE_TS_IOSNOOP_SPLIT (bytes
 * per piece; 0: never) overrides the CPU and size rules (tests, bench).
 */
export async function splitPlan(file: string): Promise<{pieceBytes: number; threads: number} | undefined> {
	const override = process.env['FTRACE_TS_IOSNOOP_SPLIT'];
	const forced = override !== undefined && /^\d+$/.test(override) ? Number(override) : undefined;
	if (forced === 0) {
		return undefined;
	}

	const cpus = availableParallelism();
	const size = await stat(file).then(stats => (stats.isFile() ? stats.size : 0), () => 0);
	const bytes = forced ?? pieceBytes;
	if ((forced === undefined && (cpus < 4 || size < 2 * bytes)) || size === 0) {
		return undefined;
	}

	if (await isCaptureFile(file).catch(() => true) || await replayGapsAtMost(file) !== 0) {
		return undefined;
	}

	return {pieceBytes: bytes, threads: Math.max(2, Math.min(cpus, 4))};
}

/**
 * Replay `file` split into pieces of `plan.pieceBytes` on `plan.threads`
 * threads, printing the rows through `write` as iosnoop prints them (one
 * thread's bytes, exactly). Throws UsageError for bad options (before any
 * thread starts), Error when a thread fails; stops when `signal` aborts.
 */
export async function replaySplit(file: string, options: SplitOptions, view: {readonly showStart: boolean; readonly showEnd: boolean}, plan: {readonly pieceBytes: number; readonly threads: number}, write: (bytes: Uint8Array) => void, signal?: AbortSignal): Promise<void> {
	checkIosnoopOptions({...options, replay: file});
	const size = (await stat(file)).size;
	const count = Math.max(1, Math.ceil(size / plan.pieceBytes));
	const setup: SplitSetup = {file, options, ...view};
	const progress = replayProgress(file);
	const rows = new RowWriter(view.showStart, view.showEnd, write);
	// Issues waiting at the end of the pieces printed so far, by dev and sector (a few: those in flight).
	const carried = new Map<number, Map<number, IosnoopPending>>();
	const row: {-readonly [K in keyof IosnoopRow]: IosnoopRow[K]} = {comm: '', pid: 0, rwbs: '', dev: 0, sector: 0, bytes: 0, startSeconds: 0, startNanoseconds: 0, endSeconds: 0, endNanoseconds: 0};
	const stitch = (reply: PieceReply): void => {
		let hole = 0;
		for (let at = 0; at <= reply.pieces.length; at++) {
			for (; hole < reply.holes.length && reply.holes[hole]!.at === at; hole++) {
				const {row: done} = reply.holes[hole]!;
				const sectors = carried.get(done.dev);
				const begun = sectors?.get(done.sector);
				if (!begun) {
					continue;
				}

				sectors!.delete(done.sector);
				Object.assign(row, done);
				row.comm = begun.comm;
				row.pid = begun.pid;
				// `bytes` of a hole is the completion's sector count.
				row.bytes = requestBytes(done.bytes, begun);
				row.startSeconds = begun.seconds;
				row.startNanoseconds = begun.nanoseconds;
				rows.row(row);
			}

			if (at < reply.pieces.length) {
				rows.flush();
				write(reply.pieces[at]!);
			}
		}

		// The piece's own issues replace the carried ones of the same (dev, sector).
		if ([...carried.values()].some(sectors => sectors.size > 0)) {
			const {done} = reply;
			for (let i = 0; i < done.length; i += 2) {
				carried.get(done[i]!)?.delete(done[i + 1]!);
			}
		}

		for (const [dev, sector, pending] of reply.pending) {
			let sectors = carried.get(dev);
			if (!sectors) {
				sectors = new Map();
				carried.set(dev, sectors);
			}

			sectors.set(sector, pending);
		}
	};

	const threads = Math.min(plan.threads, count);
	const pool = Array.from({length: threads}, () => new Worker(new URL('iosnoop-split-worker.js', import.meta.url), {workerData: setup}));
	const replies = new Map<number, PieceReply>();
	let next = 0;
	let wanted = 0;
	let wake: (() => void) | undefined;
	let failure: Error | undefined;
	const stop = (): void => wake?.();
	signal?.addEventListener('abort', stop, {once: true});
	const dispatch = (worker: Worker): void => {
		// At most two pieces per thread ahead of the one printed next: memory stays flat.
		if (next < count && next < wanted + (2 * threads)) {
			const piece = next++;
			const request: PieceRequest = {piece, from: Math.floor((size * piece) / count), to: Math.floor((size * (piece + 1)) / count)};
			worker.postMessage(request);
		} else {
			idle.push(worker);
		}
	};

	const idle: Worker[] = [];
	try {
		for (const worker of pool) {
			worker.on('message', (reply: PieceReply) => {
				if (reply.error !== undefined) {
					failure ??= new Error(reply.error);
				} else {
					replies.set(reply.piece, reply);
				}

				dispatch(worker);
				wake?.();
			});
			worker.on('error', error => {
				failure ??= error;
				wake?.();
			});
			dispatch(worker);
		}

		while (wanted < count) {
			if (signal?.aborted) {
				return;
			}

			if (failure) {
				throw failure;
			}

			const reply = replies.get(wanted);
			if (!reply) {
				// eslint-disable-next-line no-await-in-loop
				await new Promise<void>(resolve => {
					wake = resolve;
				});
				wake = undefined;
				continue;
			}

			replies.delete(wanted);
			stitch(reply);
			wanted++;
			progress?.(Math.floor((size * wanted) / count), size);
			for (const worker of idle.splice(0)) {
				dispatch(worker);
			}
		}

		rows.flush();
	} finally {
		signal?.removeEventListener('abort', stop);
		await Promise.all(pool.map(async worker => worker.terminate()));
	}
}
