#!/usr/bin/env node
import meow from 'meow';
import {createReadStream} from 'node:fs';
import {PerfStackCollapser, type CollapseOptions} from '../stackcollapse-perf.js';
import {UsageError, runCli} from '../cli.js';
import {checkFlags} from '../flag-check.js';

const cli = meow(`
USAGE: stackcollapse-perf [options] [infile ...] > outfile
                 --pid           # include PID with process names [1]
                 --tid           # include TID and PID with process names [1]
                 --inline        # un-inline using addr2line
                 --all           # all annotations (--kernel --jit)
                 --kernel        # annotate kernel functions with a _[k]
                 --jit           # annotate jit functions with a _[j]
                 --context       # adds source context to --inline
                 --srcline       # input is 'perf script -F+srcline': add source context
                 --addrs         # include raw addresses where symbols can't be found
                 --event-filter=EVENT  # event name filter (default: the first event)
                 -h, --help      # this usage message
  infile: perf script output; none or - reads stdin
  [1] perf script must emit both PID and TID: perf script -F comm,pid,tid,cpu,time,event,ip,sym,dso,trace
  eg,
       perf script | stackcollapse-perf > out.folded
       stackcollapse-perf --pid --kernel perf.script > out.folded
`, {
	importMeta: import.meta,
	flags: {
		pid: {type: 'boolean'},
		tid: {type: 'boolean'},
		inline: {type: 'boolean'},
		all: {type: 'boolean'},
		kernel: {type: 'boolean'},
		jit: {type: 'boolean'},
		context: {type: 'boolean'},
		srcline: {type: 'boolean'},
		addrs: {type: 'boolean'},
		eventFilter: {type: 'string'},
		help: {type: 'boolean', shortFlag: 'h'},
	},
	autoHelp: true,
	autoVersion: false,
	allowUnknownFlags: true,
});

await runCli('stackcollapse-perf', async () => {
	checkFlags(process.argv.slice(2), ['pid', 'tid', 'inline', 'all', 'kernel', 'jit', 'context', 'srcline', 'addrs', 'help', 'h'], ['event-filter']);
	const {flags} = cli;
	if (flags.eventFilter === '') {
		throw new UsageError('--event-filter needs an event name, eg, --event-filter=cpu-clock');
	}
	const options: CollapseOptions = {
		pid: flags.pid,
		tid: flags.tid,
		inline: flags.inline,
		all: flags.all,
		kernel: flags.kernel,
		jit: flags.jit,
		context: flags.context,
		srcline: flags.srcline,
		addrs: flags.addrs,
		eventFilter: flags.eventFilter,
		onWarning: (message) => process.stderr.write(`${message}\n`),
	};
	const collapser = new PerfStackCollapser(options);
	const inputs = cli.input.length === 0 ? ['-'] : cli.input;
	for (const path of inputs) {
		const stream = path === '-' ? process.stdin : createReadStream(path, {highWaterMark: 1 << 16});
		try {
			for await (const chunk of stream) {
				collapser.write((chunk as Buffer).toString('latin1'));
			}
		} catch (error) {
			const code = (error as NodeJS.ErrnoException).code;
			if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES') {
				throw new Error(`can't read ${path}: ${code}`);
			}
			throw error;
		}
	}
	collapser.end();
	await writeLines(collapser.lines());
});

async function writeLines(lines: string[]): Promise<void> {
	const batch = 4096;
	for (let i = 0; i < lines.length; i += batch) {
		const text = lines.slice(i, i + batch).join('\n') + '\n';
		if (!process.stdout.write(Buffer.from(text, 'latin1'))) {
			await new Promise((resolve) => process.stdout.once('drain', resolve));
		}
	}
}
