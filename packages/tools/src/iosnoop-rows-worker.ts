/**
 * The printing thread of iosnoop-rows-thread.ts: prints each batch's rows
 * with RowWriter and sends back the bytes (and the batch's array).
 */
import {parentPort, workerData} from 'node:worker_threads';
import {RowWriter} from './iosnoop-rows.js';
import {rowValues, type RowBatch, type RowReply} from './iosnoop-rows-thread.js';
import type {IosnoopRow} from './iosnoop.js';

const {showStart, showEnd} = workerData as {showStart: boolean; showEnd: boolean};
const port = parentPort!;
let strings: string[] = [];
let printed: Uint8Array[] = [];
const rows = new RowWriter(showStart, showEnd, bytes => {
	printed.push(bytes);
});
const row: {-readonly [K in keyof IosnoopRow]: IosnoopRow[K]} = {comm: '', pid: 0, rwbs: '', dev: 0, sector: 0, bytes: 0, startSeconds: 0, startNanoseconds: 0, endSeconds: 0, endNanoseconds: 0};

port.on('message', (batch: RowBatch) => {
	const {values} = batch;
	let error: string | undefined;
	try {
		if (batch.restart) {
			strings = [];
		}

		strings.push(...batch.strings);
		for (let at = 0; at < batch.count * rowValues; at += rowValues) {
			row.comm = strings[values[at]! | 0]!;
			row.rwbs = strings[values[at + 1]! | 0]!;
			row.pid = values[at + 2]!;
			row.dev = values[at + 3]!;
			row.sector = values[at + 4]!;
			row.bytes = values[at + 5]!;
			row.startSeconds = values[at + 6]!;
			row.startNanoseconds = values[at + 7]!;
			row.endSeconds = values[at + 8]!;
			row.endNanoseconds = values[at + 9]!;
			rows.row(row);
		}

		if (batch.flush) {
			rows.flush();
		}
	} catch (caught) {
		error = (caught as Error).message;
	}

	const reply: RowReply = {bytes: printed, values, ...(error === undefined ? {} : {error})};
	port.postMessage(reply, [...printed.map(bytes => bytes.buffer as ArrayBuffer), values.buffer as ArrayBuffer]);
	printed = [];
});
