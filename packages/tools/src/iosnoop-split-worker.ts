/**
 * A thread of a split iosnoop replay (see iosnoop-split.ts): replays the
 * pieces it is asked for and sends back their printed rows, holes and
 * waiting issues.
 */
import {parentPort, workerData} from 'node:worker_threads';
import {iosnoopTo, type IosnoopSink} from './iosnoop.js';
import {RowWriter} from './iosnoop-rows.js';
import type {Hole, PieceReply, PieceRequest, SplitSetup} from './iosnoop-split.js';

const setup = workerData as SplitSetup;
const port = parentPort!;

async function replayPiece(request: PieceRequest): Promise<PieceReply> {
	const pieces: Uint8Array[] = [];
	const holes: Hole[] = [];
	const pending: PieceReply['pending'] = [];
	let done = new Float64Array(1024);
	let doneCount = 0;
	// Each piece comes in memory of its own, so that it can be transferred.
	const rows = new RowWriter(setup.showStart, setup.showEnd, bytes => {
		pieces.push(bytes);
	});
	const sink: IosnoopSink = {
		io(row) {
			rows.row(row);
		},
		lost() {
			throw new Error('a split replay met a gap');
		},
		unpaired(row) {
			rows.flush();
			holes.push({at: pieces.length, row: {...row}});
		},
		issued(dev, sector) {
			if (doneCount + 2 > done.length) {
				const grown = new Float64Array(done.length * 2);
				grown.set(done);
				done = grown;
			}

			done[doneCount++] = dev;
			done[doneCount++] = sector;
		},
		waiting(dev, sector, waiting) {
			pending.push([dev, sector, waiting]);
		},
	};
	// eslint-disable-next-line @typescript-eslint/no-unused-vars
	for await (const _ of iosnoopTo({...setup.options, replay: setup.file, replayRange: {from: request.from, to: request.to}}, sink)) {
		// The sink has it.
	}

	rows.flush();
	return {piece: request.piece, pieces, holes, pending, done: done.slice(0, doneCount)};
}

// One piece at a time, in the order asked.
let queue = Promise.resolve();
port.on('message', (request: PieceRequest) => {
	queue = queue.then(async () => {
		try {
			const reply = await replayPiece(request);
			port.postMessage(reply, [...reply.pieces.map(piece => piece.buffer as ArrayBuffer), reply.done.buffer as ArrayBuffer]);
		} catch (error) {
			port.postMessage({piece: request.piece, pieces: [], holes: [], pending: [], done: new Float64Array(0), error: (error as Error).message});
		}
	});
});
