#!/usr/bin/env node
import {UsageError} from '../cli.js';
import {left, right} from '../format-columns.js';
import {opensnoopMan} from '../man-pages.js';
import {opensnoop, type OpensnoopOpen} from '../opensnoop.js';
import type {ProbeMechanism} from '../probe-mechanism.js';
import {parseArgs, runCli, runTool, stringFlag, type FlagSpec} from '../tool-cli.js';
import {checkPrintable, parsePid, parseSeconds} from '../tool-options.js';

const usage = `USAGE: opensnoop [-htx] [-d secs] [-p PID] [-L TID] [-n name] [filename]
                 -d seconds      # trace duration, and use buffers
                 -n name         # process name to match on open
                 -p PID          # PID to match on open
                 -L TID          # thread id to match on open
                 -t              # include time (seconds)
                 -x              # only show failed opens
                 -h              # this usage message
                 --json          # one JSON object per open
                 --replay FILE   # analyse a recorded trace instead
                 --mechanism M   # kprobe or uprobe (default: the best available)
                 --man           # the manual: fields, overhead, mechanisms
                 filename        # match filename (partials, REs, ok)
  eg,
       opensnoop                 # watch open()s live (unbuffered)
       opensnoop -d 1            # trace 1 sec (buffered)
       opensnoop -p 181          # trace I/O issued by PID 181 only
       opensnoop conf            # trace filenames containing "conf"
       opensnoop 'log$'          # filenames ending in "log"

See opensnoop --man and the example file for more info.
`;

const specs: FlagSpec[] = [
	{name: 'time', short: 't'},
	{name: 'failed', short: 'x'},
	{name: 'duration', short: 'd', value: true},
	{name: 'pid', short: 'p', value: true},
	{name: 'tid', short: 'L', value: true},
	{name: 'name', short: 'n', value: true},
	{name: 'mechanism', value: true},
];

await runCli('opensnoop', async () => {
	const args = await parseArgs(import.meta, process.argv.slice(2), specs, usage, opensnoopMan, 1);
	if (!args) {
		return 0;
	}

	const {flags, input} = args;
	const replay = stringFlag(flags, 'replay');
	const pidText = stringFlag(flags, 'pid');
	const tidText = stringFlag(flags, 'tid');
	const durationText = stringFlag(flags, 'duration');
	const mechanism = stringFlag(flags, 'mechanism');
	if (mechanism !== undefined && mechanism !== 'kprobe' && mechanism !== 'uprobe') {
		throw new UsageError(`--mechanism must be kprobe or uprobe, got "${mechanism}"`);
	}

	const options = {
		pid: pidText === undefined ? undefined : replay === undefined ? parsePid(pidText) : Number(pidText),
		tid: tidText === undefined ? undefined : replay === undefined ? parsePid(tidText, 'TID') : Number(tidText),
		name: stringFlag(flags, 'name'),
		filename: input[0] === undefined ? undefined : checkPrintable(input[0], 'filename'),
		failedOnly: Boolean(flags['failed']),
		durationSeconds: durationText === undefined ? undefined : parseSeconds(durationText, 'duration (-d)'),
		mechanism: mechanism as ProbeMechanism | undefined,
		replay,
	};
	let ftext = '';
	if (options.pid !== undefined) {
		ftext = ` issued by PID ${options.pid}`;
	} else if (options.tid !== undefined) {
		ftext = ` issued by TID ${options.tid}`;
	} else if (options.name !== undefined) {
		ftext = ` issued by process name "${options.name}"`;
	}

	if (options.filename !== undefined) {
		ftext += ` for filenames containing "${options.filename}"`;
	}

	const showTime = Boolean(flags['time']);
	// As the original, opens whose file name the mechanism could not see are
	// not listed (--json has them, with no file); their number is reported.
	let unnamed = 0;
	return runTool('opensnoop', Boolean(flags['json']), signal => opensnoop(options, signal), {
		start(record) {
			process.stderr.write(`opensnoop: ${record.mechanism}${record.limitation ? `; limitation: ${record.limitation}` : ''}\n`);
			if (record.mode === 'replay') {
				console.log(`Replaying open()s${ftext} from ${replay!}.`);
			} else if (record.mode === 'buffered') {
				console.log(`Tracing open()s${ftext} for ${durationText!} seconds (buffered)...`);
			} else {
				console.log(`Tracing open()s${ftext}. Ctrl-C to end.`);
			}

			console.log(`${showTime ? `${left('TIMEs', 16)} ` : ''}${left('COMM', 16, 16)} ${left('PID', 6)} ${right('FD', 4)} FILE`);
		},
		record(open: OpensnoopOpen) {
			if (open.file === undefined) {
				unnamed++;
				return;
			}

			console.log(`${showTime ? `${left(open.time, 16)} ` : ''}${left(open.comm, 16, 16)} ${left(open.pid, 6)} ${right(open.fd, 4)} ${open.file}`);
		},
		end() {
			if (unnamed > 0) {
				process.stderr.write(`opensnoop: ${unnamed} open${unnamed === 1 ? '' : 's'} with a file name the mechanism could not see were not listed (--json shows them)\n`);
			}
		},
	});
});
