import {UsageError} from './cli.js';
import {abortOnExitSignals} from './session.js';
import {parsePid, parseSeconds} from './tool-options.js';

/**
 * CLI helpers shared by funccount, funcgraph, kprobe, uprobe, functrace and
 * funcslower: perf-tools' getopt-style flags checked before meow sees them
 * (one line naming the bad flag), and the common -d/-p/-L values.
 */

/**
 * Check argv against getopt-style short flags ("aCDhHPtT" take no value,
 * "dmpL" take one, in the same word or the next) and long names. Throws
 * UsageError naming the first unknown flag or missing value.
 */
export function checkGetopt(argv: readonly string[], booleans: string, valued: string, longNames: readonly string[] = []): void {
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]!;
		if (arg === '--') {
			return;
		}

		if (arg.startsWith('--')) {
			const name = arg.slice(2).split('=')[0]!;
			if (!longNames.includes(name) && !(name.startsWith('no-') && longNames.includes(name.slice(3)))) {
				throw new UsageError(`unknown option --${name}; try -h`);
			}

			continue;
		}

		if (!arg.startsWith('-') || arg === '-') {
			continue;
		}

		for (let j = 1; j < arg.length; j++) {
			const flag = arg[j]!;
			if (valued.includes(flag)) {
				if (j === arg.length - 1) {
					if (i + 1 >= argv.length) {
						throw new UsageError(`option -${flag} needs a value; try -h`);
					}

					i++;
				}

				break;
			}

			if (!booleans.includes(flag)) {
				throw new UsageError(`unknown option -${flag}; try -h`);
			}
		}
	}
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

/** "for PID 123" / "for TID 123" / "" as the originals print it. */
export function pidText(values: {pid?: number | undefined; tid?: number | undefined}): string {
	return values.pid === undefined ? (values.tid === undefined ? '' : ` for TID ${values.tid}`) : ` for PID ${values.pid}`;
}

/**
 * Run a tool loop with exit-signal handling: Ctrl-C, TERM, HUP and a closed
 * pipe abort `signal`; the loop must then end (and clean up) by itself.
 * Prints "Ending tracing..." unless a pipe closed.
 */
export async function withExitSignals(body: (signal: AbortSignal) => Promise<void>, options: {ending?: boolean} = {}): Promise<void> {
	const {controller, dispose, reason} = abortOnExitSignals();
	try {
		await body(controller.signal);
		if (options.ending !== false && reason() !== 'SIGPIPE') {
			process.stdout.write('\nEnding tracing...\n');
		}
	} finally {
		dispose();
	}
}

/** Print a start/note/line record the way the tools do, or as JSON. */
export function printRecord(tool: string, record: {readonly kind: string; readonly text?: string}, json: boolean | undefined, startLine: () => string): void {
	if (json) {
		process.stdout.write(`${JSON.stringify(record)}\n`);
	} else if (record.kind === 'start') {
		process.stdout.write(`${startLine()}\n`);
	} else if (record.kind === 'note') {
		process.stderr.write(`${tool}: ${record.text ?? ''}\n`);
	} else if (record.kind === 'line') {
		process.stdout.write(`${record.text ?? ''}\n`);
	}
}
