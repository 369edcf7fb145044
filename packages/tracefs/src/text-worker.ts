/**
 * A worker thread of readTraceTextFileParallel: decodes the segments it is
 * asked for and sends them back (see SegmentDecoder).
 */
import {parentPort, workerData} from 'node:worker_threads';
import {FormatCache} from './format-cache.js';
import {Instance} from './instance.js';
import {SegmentDecoder, type SegmentRequest, type SegmentSetup} from './text-file.js';
import {Tracefs} from './tracefs.js';

const setup = workerData as SegmentSetup;
const port = parentPort!;
try {
	// An instance-backed cache never loads here: the reader sent every format the query needs.
	const tracefs = setup.formats?.instance || setup.retryFormats?.instance ? await Tracefs.find() : undefined;
	const decoder = new SegmentDecoder(setup, () => FormatCache.forInstance(Instance.top(tracefs!)));
	port.on('message', (request: SegmentRequest) => {
		try {
			const reply = decoder.decode(request);
			port.postMessage(reply, [reply.rows.buffer as ArrayBuffer]);
		} catch (error) {
			port.postMessage({segment: request.segment, rows: new Float64Array(0), count: 0, texts: [], strings: [], error: (error as Error).message});
		}
	});
} catch (error) {
	port.postMessage({segment: -1, rows: new Float64Array(0), count: 0, texts: [], strings: [], error: (error as Error).message});
}
