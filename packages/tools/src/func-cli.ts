import {type AnyFlags, type Result} from 'meow';
import {UsageError, checkFlags, type FlagSpec} from './cli.js';
import {meowWithUsage} from './meow-usage.js';
import {withExitSignals} from './session.js';
import {LostReport} from './tool-records.js';
import {parsePid, parseSeconds} from './tool-options.js';

/**
 * CLI helpers shared by funccount, funcgraph, kprobe, uprobe, functrace and
 * funcslower: perf-tools' getopt-style flags checked before meow sees them
 * (one line naming the bad flag), the common -d/-p/-L values, and the loop
 * that prints the kernel's own lines.
 */

/** The flags every function tool has: -d, -p, -L, -h and --json. */
export const funcFlags = {
	json: {type: 'boolean'},
	duration: {type: 'string', shortFlag: 'd'},
	pid: {type: 'string', shortFlag: 'p'},
	tid: {type: 'string', shortFlag: 'L'},
	help: {type: 'boolean', shortFlag: 'h'},
} as const;

/** The function_graph display flags funcgraph and funcslower share (-a -C -H -P -t). */
export const graphFlags = {
	all: {type: 'boolean', shortFlag: 'a'},
	cpu: {type: 'boolean', shortFlag: 'C'},
	headers: {type: 'boolean', shortFlag: 'H'},
	proc: {type: 'boolean', shortFlag: 'P'},
	time: {type: 'boolean', shortFlag: 't'},
} as const;

/** Check argv (one line naming a bad flag, exit 2), then parse it with meow; -h prints `usage`. */
export function parseFuncCli<F extends AnyFlags & FlagSpec>(importMeta: ImportMeta, usage: string, flags: F): Result<F> {
	checkFlags(process.argv.slice(2), flags);
	return meowWithUsage(usage, {importMeta, flags, allowUnknownFlags: false});
}

/** The -d, -p and -L values of a perf-tools command line, checked. */
export function commonValues(flags: {duration?: string | undefined; pid?: string | undefined; tid?: string | undefined}): {durationSec?: number; pid?: number; tid?: number} {
	if (flags.pid !== undefined && flags.tid !== undefined) {
		throw new UsageError('use -p or -L, not both');
	}

	return {
		...(flags.duration === undefined ? {} : {durationSec: parseSeconds(flags.duration, '-d duration')}),
		...(flags.pid === undefined ? {} : {pid: parsePid(flags.pid, '-p PID')}),
		...(flags.tid === undefined ? {} : {tid: parsePid(flags.tid, '-L TID')}),
	};
}

type CommonValues = ReturnType<typeof commonValues>;

/** The originals' startup line: `Tracing "funcs" for PID 123 ... Ctrl-C to end.` (or "for N seconds..."). */
export function tracingLine(funcs: string, values: CommonValues, detail = ''): string {
	const who = values.pid === undefined ? (values.tid === undefined ? '' : ` for TID ${values.tid}`) : ` for PID ${values.pid}`;
	return `Tracing "${funcs}"${who}${detail}${values.durationSec === undefined ? '... Ctrl-C to end.' : ` for ${values.durationSec} seconds...`}`;
}

/**
 * Run a function tool's core until it ends or an exit signal: the startup
 * line, notes on stderr as "TOOL: text", the kernel's lines as they are;
 * or every record as a JSON line. Lost events are reported on stderr, each
 * gap and the total (with --json also a closing {"kind":"lost-total"}).
 */
export async function runFunctionTool(
	tool: string,
	json: boolean | undefined,
	core: (signal: AbortSignal) => AsyncIterable<{readonly kind: string; readonly text?: string; readonly count?: number | undefined; readonly cpu?: number}>,
	startLine: string,
): Promise<void> {
	const lost = new LostReport();
	await withExitSignals(async signal => {
		for await (const record of core(signal)) {
			if (record.kind === 'lost') {
				process.stderr.write(lost.gap(record.count, record.cpu));
			}

			if (json) {
				process.stdout.write(`${JSON.stringify(record)}\n`);
			} else if (record.kind === 'start') {
				process.stdout.write(`${startLine}\n`);
			} else if (record.kind === 'note') {
				process.stderr.write(`${tool}: ${record.text ?? ''}\n`);
			} else if (record.kind === 'line') {
				process.stdout.write(`${record.text ?? ''}\n`);
			}
		}

		if (json && lost.any) {
			process.stdout.write(`${JSON.stringify({kind: 'lost-total', ...lost.total()})}\n`);
		}
	}, json ? false : 'stdout');
	process.stderr.write(lost.totalLine());
}
