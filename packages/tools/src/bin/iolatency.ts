#!/usr/bin/env node
import {bar, iolatency, type IolatencySummary} from '../iolatency.js';
import {iolatencyMan} from '../man-pages.js';
import {parseArgs, runCli, runTool, stringFlag, type FlagSpec} from '../tool-cli.js';
import {parseCount, parseSeconds} from '../tool-options.js';

const usage = `USAGE: iolatency [-hQT] [-d device] [-i iotype] [interval [count]]
                 -d device       # device string (eg, "202,1)
                 -i iotype       # match type (eg, '*R*' for all reads)
                 -Q              # use queue insert as start time
                 -T              # timestamp on output
                 -h              # this usage message
                 --json          # one JSON object per summary
                 --replay FILE   # summarize a recorded trace instead
                 --man           # the manual: fields, overhead
                 interval        # summary interval, seconds (default 1)
                 count           # number of summaries
  eg,
       iolatency                 # summarize latency every second
       iolatency -Q              # include block I/O queue time
       iolatency 5 2             # 2 x 5 second summaries
       iolatency -i '*R*'        # trace reads
       iolatency -d 202,1        # trace device 202,1 only

See iolatency --man and the example file for more info.
`;

const specs: FlagSpec[] = [
	{name: 'queue', short: 'Q'},
	{name: 'timestamp', short: 'T'},
	{name: 'device', short: 'd', value: true},
	{name: 'iotype', short: 'i', value: true},
];

function pad(text: string | number, width: number, leftAlign: boolean): string {
	return leftAlign ? String(text).padEnd(width) : String(text).padStart(width);
}

await runCli('iolatency', async () => {
	const args = await parseArgs(import.meta, process.argv.slice(2), specs, usage, iolatencyMan, 2);
	if (!args) {
		return 0;
	}

	const {flags, input} = args;
	const options = {
		queue: Boolean(flags['queue']),
		device: stringFlag(flags, 'device'),
		iotype: stringFlag(flags, 'iotype'),
		intervalSeconds: input[0] === undefined ? undefined : parseSeconds(input[0], 'interval'),
		count: input[1] === undefined ? undefined : parseCount(input[1], 'count'),
		replay: stringFlag(flags, 'replay'),
	};
	const timestamps = Boolean(flags['timestamp']);
	return runTool('iolatency', Boolean(flags['json']), signal => iolatency(options, signal), {
		start(record) {
			if (record.mode === 'replay') {
				console.log(`Summarizing block I/O from ${options.replay!}.`);
			} else {
				console.log(`Tracing block I/O. Output every ${input[0] ?? 1} seconds.${options.count === undefined ? ' Ctrl-C to end.' : ''}`);
			}

			process.stderr.write(`iolatency: ${record.mechanism}\n`);
		},
		record(summary: IolatencySummary) {
			const lines = [''];
			if (timestamps) {
				lines.push(`${summary.time}:`);
			}

			const max = Math.max(0, ...summary.buckets.map(bucket => bucket.count));
			lines.push(`${pad('>=(ms)', 8, false)} .. ${pad('<(ms)', 8, true)}: ${pad('I/O', 8, true)} |${pad('Distribution', 38, true)}|`);
			for (const bucket of summary.buckets) {
				lines.push(`${pad(bucket.fromMs, 8, false)} -> ${pad(bucket.toMs, 8, true)}: ${pad(bucket.count, 8, true)} |${pad(bar(bucket.count, max), 38, true)}|`);
			}

			console.log(lines.join('\n'));
		},
	});
});
