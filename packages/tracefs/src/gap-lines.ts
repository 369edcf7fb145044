/**
 * The gap count of a recorded trace text file (FastTextDecoder.gapLinesIn):
 * a module of its own, with node's modules only, so that a worker thread
 * loads it at once.
 */
import {open} from 'node:fs/promises';
import {Worker} from 'node:worker_threads';

/** Lines starting "CPU:" (lost events) or "#####" (a CPU's buffer started late) in `path`. Throws the file system's errors. */
export async function gapLines(path: string): Promise<number> {
	const patterns = [Buffer.from('\nCPU:'), Buffer.from('\n#####')];
	const keep = 5;
	const buffer = Buffer.allocUnsafe(4 << 20);
	// The file's start counts as a line start.
	buffer[0] = 10;
	let carried = 1;
	let count = 0;
	const file = await open(path, 'r');
	try {
		for (;;) {
			// eslint-disable-next-line no-await-in-loop
			const {bytesRead} = await file.read(buffer, carried, buffer.length - carried, null);
			if (bytesRead === 0) {
				break;
			}

			const data = buffer.subarray(0, carried + bytesRead);
			for (const pattern of patterns) {
				for (let at = data.indexOf(pattern); at !== -1; at = data.indexOf(pattern, at + 1)) {
					// Matches wholly inside the carried bytes were counted with the chunk before.
					if (at + pattern.length > carried) {
						count++;
					}
				}
			}

			carried = Math.min(keep, data.length);
			data.copy(buffer, 0, data.length - carried);
		}
	} finally {
		await file.close();
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
