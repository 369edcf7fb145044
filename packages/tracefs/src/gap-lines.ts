/**
 * The gap count of a recorded trace text file (FastTextDecoder.gapLinesIn):
 * a module of its own, with node's modules only, so that a worker thread
 * loads it at once.
 */
import {closeSync, openSync, readSync} from 'node:fs';
import {Worker} from 'node:worker_threads';

/**
 * Lines starting "CPU:" (lost events) or "#####" (a CPU's buffer started
 * late) in `path`. Throws the file system's errors. The file is read in
 * pieces of `chunkBytes` (small enough that the second search finds the
 * bytes still in the CPU's cache), by plain reads, letting the event loop
 * run every 64 MiB: a replay waits for the count before it starts, and
 * through the thread pool the reads cost more than the searches.
 */
export async function gapLines(path: string, chunkBytes = 256 << 10): Promise<number> {
	// Searched without the newline before them (a line start is a rare byte after a frequent one).
	const patterns = [Buffer.from('CPU:'), Buffer.from('#####')];
	// The longest pattern: a match wholly in the bytes kept from a piece was counted with it.
	const keep = 5;
	const buffer = Buffer.allocUnsafe(Math.max(chunkBytes, keep + 1));
	// The file's start counts as a line start.
	buffer[0] = 10;
	let carried = 1;
	let count = 0;
	let sinceYield = 0;
	const file = openSync(path, 'r');
	try {
		for (;;) {
			const bytesRead = readSync(file, buffer, carried, buffer.length - carried, null);
			if (bytesRead === 0) {
				break;
			}

			const data = buffer.subarray(0, carried + bytesRead);
			for (const pattern of patterns) {
				// From 1: a match at 0 lies within the kept bytes.
				for (let at = data.indexOf(pattern, 1); at !== -1; at = data.indexOf(pattern, at + 1)) {
					if (data[at - 1] === 10 && at + pattern.length > carried) {
						count++;
					}
				}
			}

			carried = Math.min(keep, data.length);
			data.copy(buffer, 0, data.length - carried);
			sinceYield += bytesRead;
			if (sinceYield >= 64 << 20) {
				sinceYield = 0;
				// eslint-disable-next-line no-await-in-loop
				await new Promise(resolve => {
					setImmediate(resolve);
				});
			}
		}
	} finally {
		closeSync(file);
	}

	return count;
}

/** gapLines on a worker thread (which does not keep the process alive). Rejects with the file system's error. */
export async function gapLinesOnThread(path: string): Promise<number> {
	return new Promise<number>((resolve, reject) => {
		const worker = new Worker(new URL('gap-lines-worker.js', import.meta.url), {workerData: path});
		worker.unref();
		worker.once('message', (reply: {count?: number; error?: {message: string; code?: string}}) => {
			if (reply.count === undefined) {
				reject(Object.assign(new Error(reply.error?.message ?? 'the gap search failed'), reply.error?.code === undefined ? {} : {code: reply.error.code}));
			} else {
				resolve(reply.count);
			}
		});
		worker.once('error', reject);
		worker.once('exit', () => {
			reject(new Error('the gap search thread ended without an answer'));
		});
	});
}
