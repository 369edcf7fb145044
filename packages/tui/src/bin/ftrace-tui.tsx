#!/usr/bin/env node
import {resolve} from 'node:path';
import {render} from 'ink';
import {checkTraceFile} from '@ftrace-ts/tracefs';
import {describeError, meowWithUsage} from '@ftrace-ts/tools';
import {toolSpec, toolSpecs} from '../catalog.js';
import {App, type Screen} from '../components/App.js';
import {loadEnvironment, toolForReplay} from '../environment.js';
import {guardExit} from '../exit-guard.js';
import {RunRegistry} from '../run-registry.js';

const usageText = `
USAGE: ftrace-tui [-h] [--replay FILE [--tool NAME]] [--samples] [tool]
                 -r, --replay FILE  # replay a recorded trace (no root needed)
                 -t, --tool NAME    # the tool for --replay (default: by file name)
                 -s, --samples      # open the list of shipped sample traces
                 -h, --help         # this usage message
  tool: ${toolSpecs.map(spec => spec.name).join(', ')}
  eg,
       sudo ftrace-tui                                   # what this kernel can trace; pick a tool
       sudo ftrace-tui iosnoop                           # straight to iosnoop's options
       ftrace-tui --replay samples/iosnoop.trace         # replay block I/O recorded with dd
       ftrace-tui --replay samples/iosnoop.trace -t iolatency
       ftrace-tui --samples                              # pick a sample trace

Quitting (q, Ctrl-C, a signal or a crash) stops every tool and restores the
tracing state before exiting.
`;

const cli = meowWithUsage(usageText, {
	importMeta: import.meta,
	flags: {
		replay: {type: 'string', shortFlag: 'r'},
		tool: {type: 'string', shortFlag: 't'},
		samples: {type: 'boolean', shortFlag: 's'},
		help: {type: 'boolean', shortFlag: 'h'},
	},
	allowUnknownFlags: false,
});

function usage(message: string): never {
	process.stderr.write(`ftrace-tui: ${message}\n`);
	process.exit(2);
}

const initial: Screen[] = [];
const named = cli.flags.tool ?? cli.input[0];
if (named !== undefined && !toolSpec(named)) {
	usage(`unknown tool "${named}" (one of: ${toolSpecs.map(spec => spec.name).join(', ')})`);
}

if (cli.flags.replay !== undefined) {
	const replay = resolve(cli.flags.replay);
	// A file that cannot be read is refused now, not when its run starts.
	await checkTraceFile(replay).catch((error: unknown) => usage(describeError(error)));
	const guess = toolForReplay(replay);
	const tool = named ?? guess.tool;
	const values = named === undefined || named === guess.tool ? guess.values : {};
	const ready = toolSpec(tool)!.fields.every(field => !field.required || typeof values[field.key] === 'string');
	initial.push(ready ? {name: 'run', tool, values, replay} : {name: 'form', tool, values, replay});
} else if (named !== undefined) {
	initial.push({name: 'form', tool: named});
} else if (cli.flags.samples) {
	initial.push({name: 'samples'});
}

if (!process.stdin.isTTY) {
	usage('needs a terminal (stdin is not a TTY); the tools themselves work in pipes');
}

const registry = new RunRegistry();
const app = render(<App environment={async () => loadEnvironment(registry)} registry={registry} initial={initial}/>, {exitOnCtrlC: false});
const guard = guardExit(registry, {unmount: () => app.unmount()});
try {
	await app.waitUntilExit();
	await guard.shutdown(0);
} catch (error) {
	// A render error: the tree is gone, the runs may not be.
	await guard.shutdown(1, describeError(error));
}
