#!/usr/bin/env node
import {writeFileSync} from 'node:fs';
import {perfFlamegraph, PerfError} from '../perf-flamegraph.js';
import {UsageError, checkFlags, runCli} from '../cli.js';
import {meowWithUsage} from '../meow-usage.js';
import {FlameGraphOptionError} from '../flamegraph.js';

const flags = {
	duration: {type: 'string', shortFlag: 'd'},
	frequency: {type: 'string', shortFlag: 'F'},
	allCpus: {type: 'boolean', shortFlag: 'a'},
	pid: {type: 'string', shortFlag: 'p'},
	event: {type: 'string', shortFlag: 'e'},
	output: {type: 'string', shortFlag: 'o'},
	folded: {type: 'string'},
	title: {type: 'string'},
	colors: {type: 'string', aliases: ['color'] as string[]},
	width: {type: 'string'},
	minwidth: {type: 'string'},
	inverted: {type: 'boolean'},
	reverse: {type: 'boolean'},
	hash: {type: 'boolean'},
	kernel: {type: 'boolean'},
	jit: {type: 'boolean'},
	all: {type: 'boolean'},
	help: {type: 'boolean', shortFlag: 'h'},
} as const;

const usage = `
USAGE: perf-flamegraph [-ah] [-d secs] [-F hz] [-p PID] [-e event] [-o out.svg]
                       [--folded file] [--title text] [--colors palette]
                       [--inverted] [--reverse] [--hash] [--minwidth n]
                       [--kernel] [--jit] [--all] [-- command [args]]
                 -d, --duration SECS  # record for SECS seconds
                 -F, --frequency HZ   # sample frequency (default 99)
                 -a, --all-cpus       # all CPUs, not just the command
                 -p, --pid PID        # profile this process
                 -e, --event EVENT    # perf event (default cpu-clock)
                 -o, --output FILE    # the SVG (default perf-flamegraph.svg; - for stdout)
                 --folded FILE        # also save the folded stacks
                 --title, --colors, --width, --inverted, --reverse, --hash,
                 --minwidth           # as for flamegraph
                 --kernel, --jit, --all  # annotate frames, as for stackcollapse-perf
                 -h, --help           # this usage message
  eg,
       perf-flamegraph -- gzip -9 big.file     # profile a command
       perf-flamegraph -a -d 10 -o cpu.svg     # all CPUs for 10 seconds
       perf-flamegraph -p 1234 -d 5            # one process for 5 seconds

Runs perf record -g, perf script, stackcollapse-perf and flamegraph. Needs
perf (Debian: linux-perf) and the right to use it (root, or a low
/proc/sys/kernel/perf_event_paranoid). Ctrl-C ends recording early and still
writes the graph. OVERHEAD: sampling at 99 Hz costs little; perf script on a
long -a recording can take a while.
`;

const cli = meowWithUsage(usage, {
	importMeta: import.meta,
	flags,
	autoVersion: false,
	allowUnknownFlags: true,
});


function positiveNumber(name: string, value: string | undefined, integer: boolean): number | undefined {
	if (value === undefined) return undefined;
	const pattern = integer ? /^\d+$/ : /^(\d+(\.\d*)?|\.\d+)$/;
	if (!pattern.test(value) || Number(value) <= 0) throw new UsageError(`${name} ${value}: expected a positive ${integer ? 'integer' : 'number'}`);
	return Number(value);
}

await runCli('perf-flamegraph', async () => {
	const argv = process.argv.slice(2);
	const separator = argv.indexOf('--');
	checkFlags(argv, flags);
	const command = separator === -1 ? cli.input : argv.slice(separator + 1);
	if (separator === -1 && cli.input.length > 0) throw new UsageError(`put the command after --, eg, perf-flamegraph -- ${cli.input.join(' ')}`);
	const duration = positiveNumber('--duration', cli.flags.duration, false);
	if (command.length === 0 && duration === undefined) throw new UsageError('give a command after -- or a duration (-d secs); see --help');
	const width = positiveNumber('--width', cli.flags.width, true);
	const output = cli.flags.output ?? 'perf-flamegraph.svg';
	const controller = new AbortController();
	// Ctrl-C reaches perf too (same process group); we keep going to draw.
	process.once('SIGINT', () => controller.abort());
	if (output !== '-') process.stderr.write('Recording with perf... Ctrl-C to end.\n');
	try {
		const result = await perfFlamegraph({
			command,
			duration,
			frequency: positiveNumber('--frequency', cli.flags.frequency, true),
			allCpus: cli.flags.allCpus,
			pid: positiveNumber('--pid', cli.flags.pid, true),
			event: cli.flags.event,
			signal: controller.signal,
			collapse: {kernel: cli.flags.kernel, jit: cli.flags.jit, all: cli.flags.all},
			flamegraph: {title: cli.flags.title, colors: cli.flags.colors, width, minwidth: cli.flags.minwidth, inverted: cli.flags.inverted, reverse: cli.flags.reverse, hash: cli.flags.hash},
			onMessage: (line) => process.stderr.write(`${line}\n`),
		});
		if (cli.flags.folded !== undefined) writeFileSync(cli.flags.folded, result.folded, 'latin1');
		if (output === '-') process.stdout.write(result.svg);
		else {
			writeFileSync(output, result.svg);
			process.stderr.write(`Wrote ${output} (${result.frames} frames).\n`);
		}
		return result.ok ? 0 : 1;
	} catch (error) {
		if (error instanceof FlameGraphOptionError || error instanceof RangeError) throw new UsageError(error.message);
		if (error instanceof PerfError) throw new Error(error.message);
		throw error;
	}
});
