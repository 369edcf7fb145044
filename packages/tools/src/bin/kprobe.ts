#!/usr/bin/env node
import {runCli} from '../cli.js';
import {parseFuncCli} from '../func-cli.js';
import {probeFlags, runProbeCli} from '../probe-cli.js';

const usage = `
USAGE: kprobe [-FhHsv] [-d secs] [-p PID] [-L TID] kprobe_definition [filter]
                 -F              # force. trace despite warnings.
                 -d seconds      # trace duration, and use buffers
                 -p PID          # PID to match on events
                 -L TID          # thread id to match on events
                 -v              # view format file (don't trace)
                 -H              # include column headers
                 -s              # show kernel stack traces
                 --folded        # with -s: print the stacks folded (for flamegraph)
                 --json          # one JSON record per line
                 -h              # this usage message

Note that these examples may need modification to match your kernel
version's function names and platform's register usage. On Linux 5.6+
open(2) goes through do_sys_openat2, and a user-space string needs the
"ustring" type.
   eg,
       kprobe p:do_sys_openat2
                                 # trace open() entry
       kprobe r:do_sys_openat2
                                 # trace open() return
       kprobe 'r:do_sys_openat2 $retval'
                                 # trace open() return value
       kprobe 'r:myopen do_sys_openat2 $retval'
                                 # use a custom probe name
       kprobe 'p:myopen do_sys_openat2 filename=+0(%si):ustring'
                                 # trace open() with filename
       kprobe -s 'p:myprobe tcp_retransmit_skb'
                                 # show kernel stacks
       kprobe 'p:do_sys_openat2 file=+0(%si):ustring' 'file ~ "*stat"'
                                 # opened files ending in "stat"

Probes are created in this process's own group (ftrace_ts_<pid>) and
enabled in a tracing instance of its own; both are removed on exit. Kernel
refusals come with the kernel's error_log message, pointing into the
definition. See the man page and example file for more info.`;

await runCli('kprobe', async () => {
	const cli = parseFuncCli(import.meta, usage, probeFlags);
	await runProbeCli('kprobe', cli.input, cli.flags);
});
