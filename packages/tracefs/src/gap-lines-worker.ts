/** The thread of gapLinesOnThread: counts the gap lines of one file and answers. */
import {parentPort, workerData} from 'node:worker_threads';
import {gapLines} from './gap-lines.js';

try {
	parentPort!.postMessage({count: await gapLines(workerData as string)});
} catch (error) {
	const {message, code} = error as NodeJS.ErrnoException;
	parentPort!.postMessage({error: {message, ...(code === undefined ? {} : {code})}});
}
