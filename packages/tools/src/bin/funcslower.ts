#!/usr/bin/env node
import {UsageError, runCli} from '../cli.js';
import {commonValues, funcFlags, graphFlags, parseFuncCli, runFunctionTool, tracingLine} from '../func-cli.js';
import {funcslower} from '../funcslower.js';
import {parseCount} from '../tool-options.js';

const usage = `
USAGE: funcslower [-aChHPt] [-p PID] [-L TID] [-d secs] funcstring latency_us
                 -a              # all info (same as -HPt)
                 -C              # measure on-CPU time only
                 -d seconds      # trace duration, and use buffers
                 -h              # this usage message
                 -H              # include column headers
                 -p PID          # trace when this pid is on-CPU
                 -L TID          # trace when this thread is on-CPU
                 -P              # show process names & PIDs
                 -t              # show timestamps
                 --json          # one JSON record per line
  eg,
       funcslower vfs_read 10000 # trace vfs_read() slower than 10 ms

The kernel does the filtering (function_graph with tracing_thresh), so only
the slow calls cross into user space. tracing_thresh and the tracer are
restored on exit. See the man page and example file for more info.`;

await runCli('funcslower', async () => {
	const cli = parseFuncCli(import.meta, usage, {
		...funcFlags,
		...graphFlags,
	});
	if (cli.input.length !== 2) {
		throw new UsageError('funcstring and latency_us are needed (eg, funcslower vfs_read 10000); try -h');
	}

	const values = commonValues(cli.flags);
	const [funcs = '', latency = ''] = cli.input;
	const latencyUs = parseCount(latency, 'latency_us', 4_294_967);
	const {all} = cli.flags;
	await runFunctionTool('funcslower', cli.flags.json, signal => funcslower({
		patterns: [funcs], latencyUs, ...values,
		cpuOnly: cli.flags.cpu, processes: cli.flags.proc || all, timestamps: cli.flags.time || all, headers: cli.flags.headers || all, signal,
	}), tracingLine(funcs, values, ` slower than ${latencyUs} us`));
});
