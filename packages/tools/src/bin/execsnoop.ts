#!/usr/bin/env node
import {UsageError} from '../cli.js';
import {left, right} from '../format-columns.js';
import {execsnoop, maxArgc, type ExecMechanism, type ExecsnoopExec} from '../execsnoop.js';
import {execsnoopMan} from '../man-pages.js';
import {parseArgs, runCli, runTool, stringFlag, type FlagSpec} from '../tool-cli.js';
import {checkPrintable, parseCount, parseSeconds} from '../tool-options.js';

const usage = `USAGE: execsnoop [-hrt] [-a argc] [-d secs] [name]
                 -d seconds      # trace duration, and use buffers
                 -a argc         # max args to show (default 8)
                 -r              # include re-execs
                 -t              # include time (seconds)
                 -h              # this usage message
                 --json          # one JSON object per exec
                 --replay FILE   # analyse a recorded trace instead
                 --mechanism M   # kprobe, uprobe or proc (default: the best available)
                 --man           # the manual: fields, overhead, mechanisms
                 name            # process name to match (REs allowed)
  eg,
       execsnoop                 # watch exec()s live (unbuffered)
       execsnoop -d 1            # trace 1 sec (buffered)
       execsnoop grep            # trace process names containing grep
       execsnoop 'udevd$'        # process names ending in "udevd"

See execsnoop --man and the example file for more info.
`;

const specs: FlagSpec[] = [
	{name: 'reexec', short: 'r'},
	{name: 'time', short: 't'},
	{name: 'argc', short: 'a', value: true},
	{name: 'duration', short: 'd', value: true},
	{name: 'mechanism', value: true},
];

/** The original's rendering: args, " [...]" when cut, "comm [?]" when unknown. */
export function argsText(exec: ExecsnoopExec): string {
	if (!exec.args || exec.args.length === 0) {
		return `${exec.comm} [?]`;
	}

	return `${exec.args.join(' ')}${exec.truncated ? ' [...]' : ''}`;
}

await runCli('execsnoop', async () => {
	const args = await parseArgs(import.meta, process.argv.slice(2), specs, usage, execsnoopMan, 1);
	if (!args) {
		return 0;
	}

	const {flags, input} = args;
	const argcText = stringFlag(flags, 'argc');
	const durationText = stringFlag(flags, 'duration');
	const mechanism = stringFlag(flags, 'mechanism');
	if (mechanism !== undefined && !['kprobe', 'uprobe', 'proc'].includes(mechanism)) {
		throw new UsageError(`--mechanism must be kprobe, uprobe or proc, got "${mechanism}"`);
	}

	if (argcText !== undefined && /^\d+$/.test(argcText) && Number(argcText) > maxArgc) {
		throw new UsageError(`max -a argc is ${maxArgc}`);
	}

	const options = {
		argc: argcText === undefined ? undefined : parseCount(argcText, 'argc (-a)', maxArgc),
		reexec: Boolean(flags['reexec']),
		name: input[0] === undefined ? undefined : checkPrintable(input[0], 'name'),
		durationSeconds: durationText === undefined ? undefined : parseSeconds(durationText, 'duration (-d)'),
		mechanism: mechanism as ExecMechanism | undefined,
		replay: stringFlag(flags, 'replay'),
	};
	const ftext = options.name === undefined ? '' : ` issued by process name "${options.name}"`;
	const showTime = Boolean(flags['time']);
	return runTool('execsnoop', Boolean(flags['json']), signal => execsnoop(options, signal), {
		start(record) {
			process.stderr.write(`execsnoop: ${record.mechanism}${record.limitation ? `; limitation: ${record.limitation}` : ''}\n`);
			if (record.mode === 'replay') {
				console.log(`Replaying exec()s${ftext} from ${options.replay!}.`);
			} else if (record.mode === 'buffered') {
				console.log(`Tracing exec()s${ftext} for ${durationText!} seconds (buffered)...`);
			} else {
				console.log(`Tracing exec()s${ftext}. Ctrl-C to end.`);
			}

			console.log(`${showTime ? `${left('TIMEs', 16)} ` : ''}${right('PID', 6)} ${right('PPID', 6)} ARGS`);
		},
		record(exec: ExecsnoopExec) {
			console.log(`${showTime ? `${left(exec.time, 16)} ` : ''}${right(exec.pid, 6)} ${right(exec.ppid, 6)} ${argsText(exec)}`);
		},
	});
});
