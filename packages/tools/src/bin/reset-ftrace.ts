#!/usr/bin/env node
import {resetFtrace} from '../reset-ftrace.js';
import {UsageError, checkFlags, runCli} from '../cli.js';
import {meowWithUsage} from '../meow-usage.js';

const usage = `
USAGE: reset-ftrace [-fhq]
                 -f              # force: also remove other tracers' probes and instances
                 -q              # quiet: reset, but say nothing
                 -h              # this usage message
  eg,
       reset-ftrace              # disable active ftrace session
       reset-ftrace -f           # ... and every probe group and instance

It reclaims what killed ftrace-ts tools left (their instances and probe
groups, found by the owner PID in their names), removes probes in the default
kprobes/uprobes groups, and resets the top instance: tracer, function filters,
PID lists, events and their filters and triggers, tracing_thresh,
max_graph_depth, options, and tracing_on. Other tracers' instances and probe
groups are listed but left alone unless -f. Running ftrace-ts tools are never
touched.`;

const flags = {
	force: {type: 'boolean', shortFlag: 'f'},
	quiet: {type: 'boolean', shortFlag: 'q'},
	help: {type: 'boolean', shortFlag: 'h'},
} as const;

function numbered(text: string): string {
	const lines = text.split('\n');
	if (lines.at(-1) === '') {
		lines.pop();
	}

	return lines.map((line, index) => `${String(index + 1).padStart(6)}\t${line}`).join('\n');
}

await runCli('reset-ftrace', async () => {
	checkFlags(process.argv.slice(2), {...flags, version: {type: 'boolean'}});
	const cli = meowWithUsage(usage, {importMeta: import.meta, flags});

	if (cli.input.length > 0) {
		throw new UsageError(`unexpected argument "${cli.input[0]!}" (see reset-ftrace -h)`);
	}

	const say = (text: string) => {
		if (!cli.flags.quiet) {
			console.log(text);
		}
	};

	say('Reseting ftrace state...');
	say('');
	const report = await resetFtrace({
		force: cli.flags.force,
		onRemoved: what => say(`removed ${what}`),
		onStep(step) {
			if (cli.flags.quiet || (step.before === step.after && !step.error)) {
				return;
			}

			const name = step.file;
			console.log(`${name}, before:`);
			if (step.before !== '') {
				console.log(numbered(step.before));
			}

			console.log(`${name}, after:`);
			if (step.after !== '') {
				console.log(numbered(step.after));
			}

			console.log('');
		},
	});
	for (const kept of report.keptForeign) {
		say(`kept ${kept} (another tracer's; -f removes it)`);
	}

	for (const failure of report.failures) {
		process.stderr.write(`WARNING: ${failure}\n`);
	}

	say('Done.');
	return report.failures.length > 0 ? 1 : 0;
});
