/**
 * iosnoop's rows printed by a thread of their own: the caller's thread
 * reads, decodes and pairs; the rows' values go to the printing thread in
 * batches of numbers, and come back as the bytes RowWriter prints for
 * them, written in order by the caller: a long replay's printing then
 * costs its reading thread little, where a CPU is free for it.
 */
import {Worker} from 'node:worker_threads';
import type {IosnoopRow} from './iosnoop.js';
import {replayWantsThread} from './replay-threads.js';

/**
 * Whether to print a replay of `file` on a thread of its own (see
 * replayWantsThread). FTRACE_TS_IOSNOOP_ROWS_THREAD=1|0 forces it.
 */
export async function rowsThreadWanted(file: string): Promise<boolean> {
	return replayWantsThread(file, 'FTRACE_TS_IOSNOOP_ROWS_THREAD');
}

/** Numbers per row: comm and rwbs (as string ids), pid, dev, sector, bytes, start and end (seconds, nanoseconds). */
export const rowValues = 10;

/** Rows per batch. */
const batchRows = 4096;

/** Batches on their way at most; then the caller waits (settle) before reading on. */
const batchesAhead = 8;

/** Strings known to both sides at most; then both start again. */
const maxStrings = 65_536;

/** A batch of rows for the printing thread. */
export interface RowBatch {
	readonly values: Float64Array;
	readonly count: number;
	/** Strings new since the last batch, their ids following the known ones. */
	readonly strings: readonly string[];
	/** Forget the known strings before these. */
	readonly restart: boolean;
	/** Print what is buffered after these rows. */
	readonly flush: boolean;
}

/** The printing thread's answer to a batch. */
export interface RowReply {
	readonly bytes: Uint8Array[];
	/** The batch's values array, back for reuse. */
	readonly values: Float64Array;
	readonly error?: string;
}

export class ThreadRowWriter {
	readonly #worker: Worker;
	#values: Float64Array = new Float64Array(batchRows * rowValues);
	#count = 0;
	readonly #spare: Float64Array[] = [];
	readonly #ids = new Map<string, number>();
	#strings: string[] = [];
	#restart = false;
	#inFlight = 0;
	#failure: Error | undefined;
	#wake: (() => void) | undefined;

	/** `write` gets the printed bytes, in the order of the rows. */
	constructor(showStart: boolean, showEnd: boolean, readonly write: (bytes: Uint8Array) => void) {
		this.#worker = new Worker(new URL('iosnoop-rows-worker.js', import.meta.url), {workerData: {showStart, showEnd}});
		this.#worker.on('message', (reply: RowReply) => {
			this.#inFlight--;
			if (reply.error !== undefined) {
				this.#failure ??= new Error(`the row printing thread failed: ${reply.error}`);
			}

			for (const bytes of reply.bytes) {
				this.write(bytes);
			}

			this.#spare.push(reply.values);
			this.#wake?.();
		});
		this.#worker.on('error', error => {
			this.#failure ??= error;
			this.#wake?.();
		});
	}

	row(row: IosnoopRow): void {
		if (this.#ids.size + 2 > maxStrings) {
			// The rows so far go with the strings they name; then both sides start again.
			this.#send(false);
			this.#ids.clear();
			this.#restart = true;
		}

		const comm = this.#id(row.comm);
		const rwbs = this.#id(row.rwbs);
		const values = this.#values;
		const at = this.#count * rowValues;
		values[at] = comm;
		values[at + 1] = rwbs;
		values[at + 2] = row.pid;
		values[at + 3] = row.dev;
		values[at + 4] = row.sector;
		values[at + 5] = row.bytes;
		values[at + 6] = row.startSeconds;
		values[at + 7] = row.startNanoseconds;
		values[at + 8] = row.endSeconds;
		values[at + 9] = row.endNanoseconds;
		if (++this.#count === batchRows) {
			this.#send(false);
		}
	}

	/** Wait while many batches are on their way (memory stays flat when the printing thread lags). Throws when it failed. */
	async settle(): Promise<void> {
		while (this.#inFlight > batchesAhead && !this.#failure) {
			// eslint-disable-next-line no-await-in-loop
			await this.#wait();
		}

		if (this.#failure) {
			throw this.#failure;
		}
	}

	/** Every row so far printed and written. Throws when the printing thread failed. */
	async flush(): Promise<void> {
		this.#send(true);
		while (this.#inFlight > 0 && !this.#failure) {
			// eslint-disable-next-line no-await-in-loop
			await this.#wait();
		}

		if (this.#failure) {
			throw this.#failure;
		}
	}

	/** Flush, then end the thread. */
	async close(): Promise<void> {
		try {
			await this.flush();
		} finally {
			await this.#worker.terminate();
		}
	}

	async #wait(): Promise<void> {
		await new Promise<void>(resolve => {
			this.#wake = resolve;
		});
		this.#wake = undefined;
	}

	#id(text: string): number {
		let id = this.#ids.get(text);
		if (id === undefined) {
			id = this.#ids.size;
			this.#ids.set(text, id);
			this.#strings.push(text);
		}

		return id;
	}

	#send(flush: boolean): void {
		if (this.#count === 0 && !flush) {
			return;
		}

		const batch: RowBatch = {values: this.#values, count: this.#count, strings: this.#strings, restart: this.#restart, flush};
		this.#worker.postMessage(batch, [this.#values.buffer as ArrayBuffer]);
		this.#inFlight++;
		this.#values = this.#spare.pop() ?? new Float64Array(batchRows * rowValues);
		this.#count = 0;
		this.#strings = [];
		this.#restart = false;
	}
}
