#!/usr/bin/env node
import {left, right} from '../format-columns.js';
import {checkIosnoopOptions, iosnoop, iosnoopTo, type IosnoopRecord, type IosnoopSink} from '../iosnoop.js';
import {replaySplit, splitPlan} from '../iosnoop-split.js';
import {RowWriter} from '../iosnoop-rows.js';
import {rowsThreadWanted, ThreadRowWriter} from '../iosnoop-rows-thread.js';
import type {ToolLost} from '../tool-records.js';
import {iosnoopMan} from '../man-pages.js';
import {parseArgs, runCli, runTool, stringFlag, type FlagSpec} from '../tool-cli.js';
import {parsePid, parseSeconds} from '../tool-options.js';

const usage = `USAGE: iosnoop [-hQst] [-d device] [-i iotype] [-p PID] [-n name]
               [duration]
                 -d device       # device string (eg, "202,1)
                 -i iotype       # match type (eg, '*R*' for all reads)
                 -n name         # process name to match on I/O issue
                 -p PID          # PID to match on I/O issue
                 -Q              # use queue insert as start time
                 -s              # include start time of I/O (s)
                 -t              # include completion time of I/O (s)
                 -h              # this usage message
                 --json          # one JSON object per I/O
                 --replay FILE   # analyse a recorded trace instead
                 --man           # the manual: fields, overhead
                 duration        # duration seconds, and use buffers
  eg,
       iosnoop                   # watch block I/O live (unbuffered)
       iosnoop 1                 # trace 1 sec (buffered)
       iosnoop -Q                # include queueing time in LATms
       iosnoop -ts               # include start and end timestamps
       iosnoop -i '*R*'          # trace reads
       iosnoop -p 91             # show I/O issued when PID 91 is on-CPU
       iosnoop -Qp 91            # show I/O queued by PID 91, queue time
       iosnoop --replay trace.txt  # analyse a saved trace

See iosnoop --man and the example file for more info.
`;

const specs: FlagSpec[] = [
	{name: 'queue', short: 'Q'},
	{name: 'start', short: 's'},
	{name: 'end', short: 't'},
	{name: 'device', short: 'd', value: true},
	{name: 'iotype', short: 'i', value: true},
	{name: 'pid', short: 'p', value: true},
	{name: 'name', short: 'n', value: true},
];

await runCli('iosnoop', async () => {
	const args = await parseArgs(import.meta, process.argv.slice(2), specs, usage, iosnoopMan, 1);
	if (!args) {
		return 0;
	}

	const {flags, input} = args;
	const replay = stringFlag(flags, 'replay');
	const pidText = stringFlag(flags, 'pid');
	const options = {
		queue: Boolean(flags['queue']),
		device: stringFlag(flags, 'device'),
		iotype: stringFlag(flags, 'iotype'),
		pid: pidText === undefined ? undefined : replay === undefined ? parsePid(pidText) : Number(pidText),
		name: stringFlag(flags, 'name'),
		durationSeconds: input[0] === undefined ? undefined : parseSeconds(input[0], 'duration'),
		replay,
	};
	const showStart = Boolean(flags['start']);
	const showEnd = Boolean(flags['end']);
	const json = Boolean(flags['json']);
	let ftext = '';
	if (options.pid !== undefined) {
		ftext = ` issued by PID ${options.pid}`;
	} else if (options.name !== undefined) {
		ftext = ` issued by process name "${options.name}"`;
	}

	// Bytes written out at once (stdout keeps none) leave the writer's buffer free again.
	const rows = new RowWriter(showStart, showEnd, bytes => process.stdout.write(bytes) && process.stdout.writableLength === 0);
	// Replays and buffered runs write their rows in large writes; live rows go out as they come.
	const batched = replay !== undefined || options.durationSeconds !== undefined;

	/** The core's start and gaps for runTool; rows printed here as the core finds them. */
	async function * printingRows(signal: AbortSignal): AsyncGenerator<IosnoopRecord> {
		// A long replay without gaps: the whole pipeline split across threads, the same bytes out.
		const plan = replay === undefined ? undefined : await splitPlan(replay);
		if (plan) {
			checkIosnoopOptions(options);
			yield {type: 'start', mode: 'replay', mechanism: `block:${options.queue ? 'block_rq_insert' : 'block_rq_issue'} -> block:block_rq_complete`};
			await replaySplit(replay!, options, {showStart, showEnd}, plan, bytes => process.stdout.write(bytes), signal);
			return;
		}

		// A long replay's rows printed by a thread of their own (on a second CPU).
		const thread = replay !== undefined && await rowsThreadWanted(replay) ? new ThreadRowWriter(showStart, showEnd, bytes => process.stdout.write(bytes)) : undefined;
		const writer = thread ?? rows;
		const gaps: ToolLost[] = [];
		const sink: IosnoopSink = {
			io(row) {
				writer.row(row);
			},
			lost(gap) {
				gaps.push(gap);
			},
		};
		try {
			for await (const start of iosnoopTo(options, sink, signal)) {
				if (start) {
					yield start;
				}

				if (gaps.length > 0 || !batched) {
					// eslint-disable-next-line no-await-in-loop
					await writer.flush();
				} else {
					// eslint-disable-next-line no-await-in-loop
					await thread?.settle();
				}

				yield * gaps.splice(0);
			}
		} finally {
			await (thread ? thread.close() : rows.flush());
		}
	}

	return runTool('iosnoop', json, signal => (json ? iosnoop(options, signal) : printingRows(signal)), {
		start(record) {
			if (record.mode === 'replay') {
				console.log(`Replaying block I/O${ftext} from ${replay!}...`);
			} else if (record.mode === 'buffered') {
				console.log(`Tracing block I/O${ftext} for ${input[0]!} seconds (buffered)...`);
			} else {
				console.log(`Tracing block I/O${ftext}. Ctrl-C to end.`);
			}

			let header = '';
			if (showStart) {
				header += `${left('STARTs', 15)} `;
			}

			if (showEnd) {
				header += `${left('ENDs', 15)} `;
			}

			console.log(`${header}${left('COMM', 12, 12)} ${left('PID', 6)} ${left('TYPE', 4)} ${left('DEV', 8)} ${left('BLOCK', 12)} ${left('BYTES', 6)} ${right('LATms', 8)}`);
		},
		record() {
			// Rows are printed as they come (printingRows); JSON is runTool's.
		},
	});
});
