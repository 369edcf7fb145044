/**
 * The one check of a command line's options, shared by every tool, and the
 * handling of closed pipes every CLI installs. Kept free of meow and
 * @ftrace-ts/tracefs so the pipeline tools (flamegraph, stackcollapse-perf)
 * can load it without paying for either at start-up.
 */

/** A usage error raised by a CLI: printed as one line, exit status 2. */
export class UsageError extends Error {
	override readonly name = 'UsageError';
}

/** Meow-style flag specs, camelCase names: enough to check argv before meow sees it. */
export type FlagSpec = Readonly<Record<string, {
	readonly type: 'boolean' | 'string' | 'number';
	readonly shortFlag?: string;
	readonly aliases?: readonly string[];
	readonly isMultiple?: boolean;
}>>;

/**
 * The usage text as perf-tools prints it for -h: the text alone, from its
 * first line (no package description above it, no indent added, as meow's
 * own help would), on stdout; then exit 0.
 */
export function showUsage(usage: string): never {
	process.stdout.write(`${usage.replace(/^\n+/, '').trimEnd()}\n`);
	process.exit(0);
}

function kebab(name: string): string {
	return name.replaceAll(/[A-Z]/g, ch => `-${ch.toLowerCase()}`);
}

/**
 * Refuse unknown options and options missing their value, in one line naming
 * the bad one (meow's own report spans lines and exits by itself). Reads argv
 * as getopts does: short clusters (`-Qst`, `-Qp 91`, `-p91`), `--name` and
 * `--name=value`, `--no-name` for booleans; `--` ends the options and
 * negative numbers (`-1`) are arguments. Throws UsageError.
 */
export function checkFlags(argv: readonly string[], flags: FlagSpec): void {
	const long = new Map<string, FlagSpec[string]>();
	const short = new Map<string, FlagSpec[string]>();
	for (const [name, spec] of Object.entries(flags)) {
		for (const alias of [name, ...(spec.aliases ?? [])]) {
			long.set(kebab(alias), spec);
		}

		if (spec.shortFlag) {
			short.set(spec.shortFlag, spec);
		}
	}

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
			const negated = name.startsWith('no-') ? long.get(name.slice(3)) : undefined;
			const spec = long.get(name) ?? (negated?.type === 'boolean' ? negated : undefined);
			if (!spec) {
				throw new UsageError(`unknown option --${name}; try -h`);
			}

			if (spec.type !== 'boolean' && value === undefined) {
				if (i + 1 >= argv.length) {
					throw new UsageError(`option --${name} needs a value; try -h`);
				}

				i++;
			}

			continue;
		}

		for (let j = 1; j < arg.length; j++) {
			const letter = arg[j]!;
			const spec = short.get(letter);
			if (!spec) {
				throw new UsageError(`unknown option -${letter}; try -h`);
			}

			if (spec.type !== 'boolean') {
				if (j === arg.length - 1) {
					if (i + 1 >= argv.length) {
						throw new UsageError(`option -${letter} needs a value; try -h`);
					}

					i++;
				}

				break;
			}
		}
	}
}

/**
 * A closed stdout or stderr (EPIPE: the reader went away, as `| head -1`)
 * ends the program quietly, exit status 0 unless it failed: it is told as
 * SIGPIPE (which node ignores), so the run stops and its session restores
 * the kernel's state, as on Ctrl-C. Without a handler, the error of a write
 * to a closed stderr would end the process at once, leaving the tracing
 * set up.
 */
export function endOnClosedPipes(): void {
	// Node ignores SIGPIPE, until the last of its listeners goes (the run's
	// own, after its cleanup): then it kills. One listener stays for good.
	process.on('SIGPIPE', () => undefined);
	for (const stream of [process.stdout, process.stderr]) {
		stream.on('error', (error: NodeJS.ErrnoException) => {
			if (error.code === 'EPIPE') {
				// A failure already told (its message may be what hit the closed pipe) keeps its status.
				process.exitCode ??= 0;
				process.emit('SIGPIPE' as 'SIGINT');
			}
		});
	}
}
