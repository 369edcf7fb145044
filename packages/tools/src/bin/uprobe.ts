#!/usr/bin/env node
import {UsageError, runCli} from '../cli.js';
import {parseFuncCli} from '../func-cli.js';
import {probeFlags, runProbeCli} from '../probe-cli.js';
import {listUprobeTargets} from '../uprobe.js';

const usage = `
USAGE: uprobe [-FhHsv] [-d secs] [-p PID] [-L TID] {-l target |
              uprobe_definition [filter]}
                 -F              # force. trace despite warnings.
                 -d seconds      # trace duration, and use buffers
                 -l target       # list functions from this executable
                 -p PID          # PID to match on events
                 -L TID          # thread id to match on events
                 -v              # view format file (don't trace)
                 -H              # include column headers
                 -s              # show user stack traces
                 --folded        # with -s: print the stacks folded (for flamegraph)
                 --json          # one JSON record per line
                 -h              # this usage message

Note that these examples may need modification to match your kernel
version's function names and platform's register usage.
   eg,
       # trace readline() calls in all running "bash" executables:
           uprobe p:bash:readline
       # trace readline() with explicit executable path:
           uprobe p:/bin/bash:readline
       # trace the return of readline() with return value as a string:
           uprobe 'r:bash:readline +0($retval):string'
       # trace sleep() calls in all running libc shared libraries:
           uprobe p:libc:sleep
       # trace sleep() with register %di (x86):
           uprobe 'p:libc:sleep %di'
       # trace this address (use caution: must be instruction aligned):
           uprobe p:libc:0xbf130
       # trace gettimeofday() for PID 1182 only:
           uprobe -p 1182 p:libc:gettimeofday
       # trace the return of fopen() only when it returns NULL:
           uprobe 'r:libc:fopen file=$retval' 'file == 0'
       # list the functions of libc that can be traced:
           uprobe -l libc

Targets resolve through $PATH and the linker cache, symbols through the
file's ELF symbol tables (no objdump needed). Probes go in this process's
own group (ftrace_ts_<pid>) and are removed on exit. See the man page and
example file for more info.`;

await runCli('uprobe', async () => {
	const cli = parseFuncCli(import.meta, usage, {
		...probeFlags,
		list: {type: 'string', shortFlag: 'l'},
	});
	if (cli.flags.list !== undefined) {
		if (cli.input.length > 0) {
			throw new UsageError('use either -l target or a uprobe definition');
		}

		const {path, symbols} = await listUprobeTargets(cli.flags.list);
		for (const symbol of symbols) {
			process.stdout.write(cli.flags.json
				? `${JSON.stringify({name: symbol.name, path, address: `0x${symbol.address.toString(16)}`, size: Number(symbol.size)})}\n`
				: `${symbol.name}\n`);
		}

		return;
	}

	await runProbeCli('uprobe', cli.input, cli.flags);
});
