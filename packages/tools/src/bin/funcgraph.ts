#!/usr/bin/env node
import {runCli} from '../cli.js';
import {commonValues, funcFlags, graphFlags, parseFuncCli, runFunctionTool, tracingLine} from '../func-cli.js';
import {funcgraph} from '../funcgraph.js';
import {parseCount} from '../tool-options.js';

const usage = `
USAGE: funcgraph [-aCDhHPtT] [-m maxdepth] [-p PID] [-L TID] [-d secs] funcstring
                 -a              # all info (same as -HPt)
                 -C              # measure on-CPU time only
                 -d seconds      # trace duration, and use buffers
                 -D              # do not show function duration
                 -h              # this usage message
                 -H              # include column headers
                 -m maxdepth     # max stack depth to show
                 -p PID          # trace when this pid is on-CPU
                 -L TID          # trace when this thread is on-CPU
                 -P              # show process names & PIDs
                 -t              # show timestamps
                 -T              # comment function tails
                 --json          # one JSON record per line
  eg,
       funcgraph do_nanosleep    # trace do_nanosleep() and children
       funcgraph -m 3 do_sys_openat2 # trace do_sys_openat2() to 3 levels only
       funcgraph -a do_sys_openat2   # include timestamps and process name
       funcgraph -p 198 vfs_read # trace vfs_read() for PID 198 only
       funcgraph -d 1 vfs_read >out # trace 1 sec, then write to file

function_graph runs in an instance of its own where the kernel allows it
there (Linux 6.12+); otherwise in the top instance, only when no other
tracer is active, with every option, max_graph_depth, set_graph_function
and the tracer restored on exit. See the man page and example file for more
info.`;

await runCli('funcgraph', async () => {
	const cli = parseFuncCli(import.meta, usage, {
		...funcFlags,
		...graphFlags,
		noDuration: {type: 'boolean', shortFlag: 'D'},
		tail: {type: 'boolean', shortFlag: 'T'},
		maxDepth: {type: 'string', shortFlag: 'm'},
	});
	const values = commonValues(cli.flags);
	const maxDepth = cli.flags.maxDepth === undefined ? undefined : parseCount(cli.flags.maxDepth, '-m maxdepth', 1000);
	const {all} = cli.flags;
	await runFunctionTool('funcgraph', cli.flags.json, signal => funcgraph({
		patterns: cli.input, ...values, maxDepth,
		cpuOnly: cli.flags.cpu, noDuration: cli.flags.noDuration, processes: cli.flags.proc || all,
		timestamps: cli.flags.time || all, tails: cli.flags.tail, headers: cli.flags.headers || all, signal,
	}), tracingLine(cli.input.join(' '), values));
});
