#!/usr/bin/env node
import {UsageError} from '../cli.js';
import {left, right} from '../format-columns.js';
import {iosnoop, type IosnoopIo} from '../iosnoop.js';
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

/** LATms as the original computed it: from the printed seconds, in floating point. */
function printedLatency(io: IosnoopIo): string {
	return (1000 * (Number(io.end) - Number(io.start))).toFixed(2);
}

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
	const args = parseArgs(import.meta, process.argv.slice(2), specs, usage, iosnoopMan);
	if (!args) {
		return 0;
	}

	const {flags, input} = args;
	if (input.length > 1) {
		throw new UsageError(`unexpected argument "${input[1]!}"; try -h`);
	}

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

	return runTool('iosnoop', json, signal => iosnoop(options, signal), {
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
		record(io: IosnoopIo) {
			let line = '';
			if (showStart) {
				line += `${left(io.start, 15)} `;
			}

			if (showEnd) {
				line += `${left(io.end, 15)} `;
			}

			console.log(`${line}${left(io.comm, 12, 12)} ${left(io.pid, 6)} ${left(io.rwbs, 4)} ${left(io.dev, 8)} ${left(io.sector, 12)} ${left(io.bytes, 6)} ${right(printedLatency(io), 8)}`);
		},
	});
});
