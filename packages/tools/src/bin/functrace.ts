#!/usr/bin/env node
import {runCli} from '../cli.js';
import {commonValues, funcFlags, parseFuncCli, runFunctionTool, tracingLine} from '../func-cli.js';
import {functrace} from '../functrace.js';

const usage = `
USAGE: functrace [-hH] [-p PID] [-L TID] [-d secs] funcstring ...
                 -d seconds      # trace duration, and use buffers
                 -h              # this usage message
                 -H              # include column headers
                 -p PID          # trace when this pid is on-CPU
                 -L TID          # trace when this thread is on-CPU
                 --json          # one JSON record per line
  eg,
       functrace do_nanosleep    # trace the do_nanosleep() function
       functrace '*sleep'        # trace functions ending in "sleep"
       functrace -p 198 'vfs*'   # trace "vfs*" funcs for PID 198
       functrace 'tcp*' > out    # trace all "tcp*" funcs to out file
       functrace -d 1 'tcp*' > out  # trace 1 sec, then write out file
       functrace vfs_read vfs_write # several patterns at once

The function tracer runs in a tracing instance of its own, so other
tracing is left alone. See the man page and example file for more info.`;

await runCli('functrace', async () => {
	const cli = parseFuncCli(import.meta, usage, {
		...funcFlags,
		headers: {type: 'boolean', shortFlag: 'H'},
	});
	const values = commonValues(cli.flags);
	await runFunctionTool('functrace', cli.flags.json, signal => functrace({patterns: cli.input, ...values, headers: cli.flags.headers, signal}), tracingLine(cli.input.join(' '), values));
});
