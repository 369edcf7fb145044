import {TracefsError} from '@ftrace-ts/tracefs';

/** A usage error raised by a CLI: printed as one line, exit status 2. */
export class UsageError extends Error {
	override readonly name = 'UsageError';
}

/** Exit statuses: 0 ok (and a clean Ctrl-C), 1 runtime failure, 2 usage. */
export const exitStatus = {ok: 0, failure: 1, usage: 2} as const;

/** One line describing any error, with no stack trace. */
export function describeError(error: unknown): string {
	if (error instanceof TracefsError) {
		return error.oneLine();
	}

	if (error instanceof Error) {
		return error.message.replaceAll(/[\r\n]+/g, ' ');
	}

	return String(error).replaceAll(/[\r\n]+/g, ' ');
}

/** Whether an error is the user's fault (exit 2) rather than the system's (exit 1). */
export function isUsageError(error: unknown): boolean {
	return error instanceof UsageError || (error instanceof TracefsError && error.usage);
}

/**
 * Run a CLI main function: an error becomes "NAME: one line" on stderr and
 * exit status 2 (usage) or 1 (runtime); never a stack trace. A closed stdout
 * (EPIPE, e.g. `| head -1`) ends the program quietly with status 0 after
 * `main` had its chance to clean up through its own abort handling.
 */
export async function runCli(name: string, main: () => Promise<number | void>): Promise<void> {
	process.stdout.on('error', (error: NodeJS.ErrnoException) => {
		if (error.code === 'EPIPE') {
			process.exitCode = 0;
			process.emit('SIGPIPE' as 'SIGINT');
		}
	});
	try {
		const status = await main();
		process.exitCode = status ?? 0;
	} catch (error) {
		process.stderr.write(`${name}: ${describeError(error)}\n`);
		if (process.env['FTRACE_TS_DEBUG'] && error instanceof Error) {
			process.stderr.write(`${error.stack ?? ''}\n`);
		}

		process.exitCode = isUsageError(error) ? exitStatus.usage : exitStatus.failure;
	}
}

/** A meow-style flag spec: enough to check argv before meow sees it. */
export type FlagSpec = Readonly<Record<string, {readonly type: 'boolean' | 'string' | 'number'; readonly shortFlag?: string; readonly isMultiple?: boolean}>>;

function kebab(name: string): string {
	return name.replaceAll(/[A-Z]/g, ch => `-${ch.toLowerCase()}`);
}

/**
 * Refuse unknown options and options missing their value, in one line naming
 * the bad one (meow's own report spans lines and exits by itself). Knows
 * short-flag clusters as getopts does: `-Qst`, `-Qp 91`, `-p91`.
 * Throws UsageError.
 */
export function rejectUnknownFlags(argv: readonly string[], flags: FlagSpec): void {
	const long = new Map<string, FlagSpec[string]>();
	const short = new Map<string, FlagSpec[string]>();
	for (const [name, spec] of Object.entries(flags)) {
		long.set(kebab(name), spec);
		if (spec.shortFlag) {
			short.set(spec.shortFlag, spec);
		}
	}

	long.set('help', {type: 'boolean'});
	long.set('version', {type: 'boolean'});
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]!;
		if (arg === '--') {
			return;
		}

		if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) {
			continue;
		}

		if (arg.startsWith('--')) {
			const [name = '', value] = arg.slice(2).split(/=(.*)/s);
			const spec = long.get(name) ?? (name.startsWith('no-') ? long.get(name.slice(3)) : undefined);
			if (!spec) {
				throw new UsageError(`unknown option --${name} (see --help)`);
			}

			if (spec.type !== 'boolean' && value === undefined) {
				if (i + 1 >= argv.length) {
					throw new UsageError(`option --${name} needs a value`);
				}

				i++;
			}

			continue;
		}

		for (let j = 1; j < arg.length; j++) {
			const letter = arg[j]!;
			const spec = short.get(letter);
			if (!spec) {
				throw new UsageError(`unknown option -${letter} (see -h)`);
			}

			if (spec.type !== 'boolean') {
				if (j === arg.length - 1) {
					if (i + 1 >= argv.length) {
						throw new UsageError(`option -${letter} needs a value`);
					}

					i++;
				}

				break;
			}
		}
	}
}
