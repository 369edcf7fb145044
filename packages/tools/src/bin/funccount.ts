#!/usr/bin/env node
import {UsageError, runCli} from '../cli.js';
import {left, right} from '../format-columns.js';
import {commonValues, funcFlags, parseFuncCli} from '../func-cli.js';
import {defaultMaxProbes, foldStackCounts, funccount, type CountMechanism, type FunccountRecord} from '../funccount.js';
import {funccountMan} from '../man-pages.js';
import {withExitSignals} from '../session.js';
import {parseCount, parseSeconds} from '../tool-options.js';

const usage = `
USAGE: funccount [-hPsT] [-i secs] [-d secs] [-t top] [-p PID] [-L TID] funcstring ...
                 -d seconds      # total duration of trace
                 -h              # this usage message
                 -i seconds      # interval summary
                 -t top          # show top num entries only
                 -T              # include timestamp (for -i)
                 -p PID          # count for this process only (all threads)
                 -L TID          # count for this thread only
                 -P              # per-process breakdown (PID and COMM)
                 -s              # count by kernel stack, print the stacks
                 --folded        # with -s: the stacks folded, for flamegraph
                 --max-probes N  # at most N kprobes or hist triggers (default ${defaultMaxProbes})
                 --mechanism M   # function-profiler, kprobe-profile or hist
                 --json          # one JSON record per summary
                 --man           # the manual: stacks, fields, overhead
  eg,
       funccount 'vfs*'          # trace all funcs that match "vfs*"
       funccount -d 5 'tcp*'     # trace "tcp*" funcs for 5 seconds
       funccount -t 10 'ext4*'   # show top 10 "ext4*" funcs
       funccount -i 1 'ext4*'    # summary every 1 second
       funccount -i 1 -d 5 'ext4*' # 5 x 1 second summaries
       funccount vfs_read vfs_write # several patterns at once
       funccount -P 'vfs_*'      # per-process breakdown
       funccount 't:block:*'     # count block tracepoints
       funccount 'syscalls:sys_enter_*' # count syscalls by type
       funccount -s -d 5 vfs_read # vfs_read's kernel stacks, with counts
       funccount -s --folded -d 10 vfs_read | flamegraph > vfs_read.svg
                                 # flame graph of vfs_read's callers, no perf

Counting happens in the kernel: the function profiler where the kernel has
it (CONFIG_FUNCTION_PROFILER; Debian kernels do not), otherwise one kprobe
per function in this process's own group read from kprobe_profile, or hist
triggers for -p, -L, -P, tracepoints and -s (keyed by task and kernel
stack). The mechanism used is reported on stderr. Without hist triggers
(CONFIG_HIST_TRIGGERS) -s is refused, exit 1: tpoint -s --folded and
kprobe -s --folded stream each event's stack instead. See funccount --man.`;

await runCli('funccount', async () => {
	const cli = parseFuncCli(import.meta, usage, {
		...funcFlags,
		perProcess: {type: 'boolean', shortFlag: 'P'},
		stacks: {type: 'boolean', shortFlag: 's'},
		folded: {type: 'boolean'},
		man: {type: 'boolean'},
		timestamp: {type: 'boolean', shortFlag: 'T'},
		interval: {type: 'string', shortFlag: 'i'},
		top: {type: 'string', shortFlag: 't'},
		maxProbes: {type: 'string'},
		mechanism: {type: 'string'},
	});
	if (cli.flags.man) {
		process.stdout.write(funccountMan);
		return;
	}

	if (cli.input.length === 0) {
		throw new UsageError('a function pattern is needed (eg, \'vfs_*\'); try -h');
	}

	const stacks = cli.flags.stacks === true;
	const folded = cli.flags.folded === true;
	if (folded && (!stacks || cli.flags.json || cli.flags.interval !== undefined || cli.flags.timestamp)) {
		throw new UsageError('--folded needs -s (the stacks to fold), and none of --json, -i or -T');
	}

	const values = commonValues(cli.flags);
	const intervalSec = cli.flags.interval === undefined ? undefined : parseSeconds(cli.flags.interval, '-i interval');
	const top = cli.flags.top === undefined ? undefined : parseCount(cli.flags.top, '-t top');
	const maxProbes = cli.flags.maxProbes === undefined ? undefined : parseCount(cli.flags.maxProbes, '--max-probes', 100_000);
	const mechanisms = ['function-profiler', 'kprobe-profile', 'hist'];
	if (cli.flags.mechanism !== undefined && !mechanisms.includes(cli.flags.mechanism)) {
		throw new UsageError(`--mechanism must be one of ${mechanisms.join(', ')}, got "${cli.flags.mechanism}"`);
	}

	const funcs = cli.input.join(' ');
	const perProcess = cli.flags.perProcess === true;
	// --folded: stdout carries only the folded stacks; the talk goes to stderr.
	const talk = folded ? process.stderr : process.stdout;
	await withExitSignals(async signal => {
		for await (const record of funccount({
			patterns: cli.input, ...values, intervalSec, top, perProcess, stacks, maxProbes,
			mechanism: cli.flags.mechanism as CountMechanism | undefined, signal,
		})) {
			if (cli.flags.json) {
				process.stdout.write(`${JSON.stringify(record)}\n`);
				continue;
			}

			if (record.kind === 'start') {
				const timing = values.durationSec === undefined ? '' : ` for ${values.durationSec} seconds`;
				const every = intervalSec === undefined ? '' : ` (${intervalSec}s summaries)`;
				talk.write(`Tracing "${funcs}"${stacks ? ' stacks' : ''}${timing}${every}... ${values.durationSec === undefined ? 'Ctrl-C to end.' : ''}\n`.replace(' \n', '\n'));
				const how = record.mechanism === 'function-profiler'
					? `the function profiler (${record.counted} functions)`
					: record.mechanism === 'kprobe-profile'
						? `kprobe_profile hit counts (${record.counted} kprobes in group ${record.group ?? ''})`
						: `hist triggers${stacks ? ' keyed by kernel stack' : ''} (${record.counted} events${record.group ? `, kprobes in group ${record.group}` : ''})`;
				process.stderr.write(`funccount: counting in the kernel with ${how}\n`);
				if (record.capped > 0) {
					process.stderr.write(`funccount: ${record.capped} more matching functions not counted: at most ${maxProbes ?? defaultMaxProbes} probes (--max-probes)\n`);
				}

				if (record.skipped.length > 0) {
					process.stderr.write(`funccount: the kernel would not probe ${record.skipped.length}: ${record.skipped.slice(0, 5).map(skip => `${skip.func} (${skip.reason})`).join(', ')}${record.skipped.length > 5 ? ', ...' : ''}\n`);
				}

				continue;
			}

			if (record.kind === 'note') {
				process.stderr.write(`funccount: ${record.text}\n`);
				continue;
			}

			if (folded) {
				if (record.final) {
					process.stdout.write(foldStackCounts(record.stacks ?? [], perProcess).toString());
				}

				continue;
			}

			let text = '\n';
			if (cli.flags.timestamp) {
				text += `${new Date(record.time).toString()}\n`;
			}

			if (stacks) {
				text += stackBlocks(record, perProcess);
			}

			if (perProcess) {
				text += `${left('FUNC', 30)} ${right('PID', 7)} ${left('COMM', 16)} ${right('COUNT', 8)}\n`;
				for (const count of record.counts) {
					text += `${left(count.func, 30)} ${right(count.pid ?? '', 7)} ${left(count.comm ?? '', 16, 16)} ${right(count.count, 8)}\n`;
				}
			} else {
				text += `${left('FUNC', 30)} ${right('COUNT', 8)}\n`;
				for (const count of record.counts) {
					text += `${left(count.func, 30)} ${right(count.count, 8)}\n`;
				}
			}

			process.stdout.write(text);
		}
	}, cli.flags.json ? false : folded ? 'stderr' : 'stdout');
});

/**
 * Each stack as bcc's stackcount prints one: frames innermost first (the
 * counted function or tracepoint on top), two spaces in; then the task and
 * the count, four in; a blank line after. Least frequent first, as the
 * counts are.
 */
function stackBlocks(record: Extract<FunccountRecord, {kind: 'summary'}>, perProcess: boolean): string {
	let text = '';
	for (const entry of record.stacks ?? []) {
		for (const frame of entry.stack) {
			text += `  ${frame}\n`;
		}

		text += `    ${entry.comm}${perProcess && entry.pid !== undefined ? ` [${entry.pid}]` : ''}\n    ${entry.count}\n\n`;
	}

	return text;
}
