#!/usr/bin/env node
import {UsageError} from '../cli.js';
import {FoldedCounter, foldKernelStack} from '../folded.js';
import {tpointMan} from '../man-pages.js';
import {listTracepoints, tpoint, tracepointFormat, type TpointRecord} from '../tpoint.js';
import {parseArgs, runCli, runTool, stringFlag, type FlagSpec} from '../tool-cli.js';
import {parsePid, parseSeconds} from '../tool-options.js';

const usage = `USAGE: tpoint [-hHsv] [-d secs] [-p PID] [-L TID] tracepoint [filter]
       tpoint -l [glob]
                 -d seconds      # trace duration, and use buffers
                 -p PID          # PID to match on event
                 -L TID          # thread id to match on event
                 -v              # view format file (don't trace)
                 -H              # include column headers
                 -l              # list all tracepoints (matching glob)
                 -s              # show kernel stack traces
                 -h              # this usage message
                 --json          # decoded events, one JSON object each
                 --folded        # with -s: count stacks, print them folded (for flamegraph)
                 --replay FILE   # print this tracepoint's events from a saved trace
                 --man           # the manual: fields, overhead
   eg,
       tpoint -l | grep open
                                 # find tracepoints containing "open"
       tpoint -l 'block:*'
                                 # list the block tracepoints
       tpoint syscalls:sys_enter_openat
                                 # trace openat() syscall entry
       tpoint block:block_rq_issue
                                 # trace block I/O issue
       tpoint -s block:block_rq_issue
                                 # show kernel stacks
       tpoint block:block_rq_issue 'bytes > 65536'
                                 # only large I/O (kernel filter)
       tpoint -s --folded -d 10 block:block_rq_issue | flamegraph > io.svg
                                 # flame graph of I/O issue stacks, no perf

See tpoint --man and the example file for more info.
`;

const specs: FlagSpec[] = [
	{name: 'headers', short: 'H'},
	{name: 'stacks', short: 's'},
	{name: 'view', short: 'v'},
	{name: 'list', short: 'l'},
	{name: 'duration', short: 'd', value: true},
	{name: 'pid', short: 'p', value: true},
	{name: 'tid', short: 'L', value: true},
	{name: 'folded'},
];

await runCli('tpoint', async () => {
	const args = await parseArgs(import.meta, process.argv.slice(2), specs, usage, tpointMan);
	if (!args) {
		return 0;
	}

	const {flags, input} = args;
	if (flags['list']) {
		if (input.length > 1) {
			throw new UsageError(`-l takes at most one glob, got "${input[1]!}"`);
		}

		for (const name of await listTracepoints(input[0])) {
			console.log(name);
		}

		return 0;
	}

	if (input.length === 0) {
		throw new UsageError('a tracepoint is required (eg, block:block_rq_issue); try -h or -l');
	}

	if (input.length > 2) {
		throw new UsageError(`unexpected argument "${input[2]!}"; quote the filter as one argument`);
	}

	const tracepoint = input[0]!;
	const durationText = stringFlag(flags, 'duration');
	if (flags['view']) {
		if (durationText !== undefined) {
			throw new UsageError('use either -d or -v');
		}

		process.stdout.write(await tracepointFormat(tracepoint));
		return 0;
	}

	const replay = stringFlag(flags, 'replay');
	const pidText = stringFlag(flags, 'pid');
	const tidText = stringFlag(flags, 'tid');
	const options = {
		tracepoint,
		filter: input[1],
		pid: pidText === undefined ? undefined : replay === undefined ? parsePid(pidText) : Number(pidText),
		tid: tidText === undefined ? undefined : replay === undefined ? parsePid(tidText, 'TID') : Number(tidText),
		stacks: Boolean(flags['stacks']),
		headers: Boolean(flags['headers']),
		durationSeconds: durationText === undefined ? undefined : parseSeconds(durationText, 'duration (-d)'),
		replay,
		decoded: Boolean(flags['json']) || Boolean(flags['folded']),
	};
	if (flags['folded']) {
		if (!flags['stacks'] || flags['json']) {
			throw new UsageError('--folded needs -s (the stacks to fold) and no --json');
		}

		// Folded stacks on stdout, ready for flamegraph; the talk goes to stderr.
		const counter = new FoldedCounter();
		return runTool('tpoint', false, signal => tpoint(options, signal), {
			ending: 'stderr',
			start() {
				process.stderr.write(`Tracing ${tracepoint} stacks${durationText === undefined ? '. Ctrl-C to end.' : ` for ${durationText} seconds`}\n`);
			},
			record(record: Exclude<TpointRecord, {type: 'start' | 'lost'}>) {
				if (record.type === 'event' && record.stack && record.stack.length > 0) {
					counter.add(foldKernelStack(record.stack, record.comm));
				}
			},
			end() {
				process.stdout.write(counter.toString());
			},
		});
	}

	return runTool('tpoint', Boolean(flags['json']), signal => tpoint(options, signal), {
		start(record) {
			if (record.mode === 'replay') {
				console.log(`Replaying ${tracepoint} from ${replay!}.`);
			} else if (record.mode === 'buffered') {
				console.log(`Tracing ${tracepoint} for ${durationText!} seconds (buffered)...`);
			} else {
				console.log(`Tracing ${tracepoint}. Ctrl-C to end.`);
			}
		},
		record(record: Exclude<TpointRecord, {type: 'start' | 'lost'}>) {
			if (record.type === 'line') {
				console.log(record.text);
			}
		},
	});
});
