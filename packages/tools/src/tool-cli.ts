/**
 * The command-line side shared by the perf-tools ports: getopts-compatible
 * flags (clusters such as `-Qts`, `-Qp 91`) parsed with node's parseArgs,
 * or meow where that one refuses, after a strict check that names any
 * unknown option in one line; usage and man text; the
 * run loop that prints records, reports lost events and ends quietly on
 * Ctrl-C, TERM, HUP or a closed pipe.
 */
import {parseArgs as parseOptions} from 'node:util';
import {UsageError, checkFlags, runCli} from './cli.js';
import {ProgressLine} from './progress-line.js';
import {withExitSignals} from './session.js';
import {LostReport, recordJson, type ToolLost, type ToolStart} from './tool-records.js';

export interface FlagSpec {
	/** Long name, camelCase as meow gives it back (e.g. "queue"). */
	readonly name: string;
	/** The original's single-letter flag, if any. */
	readonly short?: string | undefined;
	/** Takes a value (getopts `x:`). */
	readonly value?: boolean | undefined;
}

/** Flags every port has on top of the original's. */
export const commonFlags: readonly FlagSpec[] = [
	{name: 'help', short: 'h'},
	{name: 'man'},
	{name: 'json'},
	{name: 'replay', value: true},
];

function kebab(name: string): string {
	return name.replaceAll(/[A-Z]/g, ch => `-${ch.toLowerCase()}`);
}

export interface ParsedArgs {
	readonly flags: Record<string, unknown>;
	readonly input: readonly string[];
}

type MeowFlags = Record<string, {type: 'string' | 'boolean'; shortFlag?: string}>;

/** The specs (and the common flags) as meow's flags, which checkFlags, quickArgs and meowArgs all read. */
export function meowFlags(specs: readonly FlagSpec[]): MeowFlags {
	const flags: MeowFlags = {};
	for (const spec of [...commonFlags, ...specs]) {
		flags[spec.name] = spec.short ? {type: spec.value ? 'string' : 'boolean', shortFlag: spec.short} : {type: spec.value ? 'string' : 'boolean'};
	}

	return flags;
}

/**
 * argv (checkFlags passed it against `flags`) parsed by node's own
 * parseArgs, with the flags and operands meow gives for it, when parseArgs
 * takes it as it is: no `--no-NAME`, no value given to a boolean, no value
 * that starts with a dash. Undefined for anything else, which goes to
 * meow. A value option given more than once has the list of its values
 * (parseArgs refuses it). Importing meow costs more start-up time (~55 ms
 * here) than a whole short replay; the common command lines need none of
 * it.
 */
export function quickArgs(argv: readonly string[], flags: MeowFlags): ParsedArgs | undefined {
	const options: Record<string, {type: 'string' | 'boolean'; short?: string}> = {};
	const names = new Map<string, string>();
	for (const [name, {type, shortFlag}] of Object.entries(flags)) {
		options[kebab(name)] = shortFlag ? {type, short: shortFlag} : {type};
		names.set(kebab(name), name);
	}

	let parsed;
	try {
		parsed = parseOptions({args: [...argv], options, allowPositionals: true, strict: true, tokens: true});
	} catch {
		return undefined;
	}

	// As getopts, a flag may be given again; a value given again is kept
	// as a list, for parseArgs to refuse.
	const values: Record<string, unknown> = {};
	for (const token of parsed.tokens) {
		if (token.kind !== 'option') {
			continue;
		}

		const name = names.get(token.name)!;
		const earlier = values[name];
		values[name] = token.value === undefined ? true : earlier === undefined ? token.value : [earlier, token.value].flat();
	}

	return {flags: values, input: parsed.positionals};
}

/**
 * Parse argv: strict check, then node's parseArgs (quickArgs), or meow for
 * what that does not take as it is. `-h` prints `usage` and exits 0;
 * `--man` prints `man` and exits 0. More than `maxInputs` operands is a
 * UsageError naming the first extra one.
 */
export async function parseArgs(importMeta: ImportMeta, argv: readonly string[], specs: readonly FlagSpec[], usage: string, man: string, maxInputs = Number.POSITIVE_INFINITY): Promise<ParsedArgs | undefined> {
	const flags = meowFlags(specs);
	checkFlags(argv, flags);
	const {flags: parsed, input} = quickArgs(argv, flags) ?? await meowArgs(importMeta, argv, flags);
	if (parsed['help']) {
		process.stdout.write(usage.endsWith('\n') ? usage : `${usage}\n`);
		return undefined;
	}

	if (parsed['man']) {
		process.stdout.write(man.endsWith('\n') ? man : `${man}\n`);
		return undefined;
	}

	for (const spec of [...commonFlags, ...specs]) {
		const value = parsed[spec.name];
		if (spec.value && Array.isArray(value)) {
			throw new UsageError(`option ${spec.short ? `-${spec.short}` : `--${kebab(spec.name)}`} was given more than once`);
		}
	}

	if (input.length > maxInputs) {
		throw new UsageError(`unexpected argument "${input[maxInputs]!}"; try -h`);
	}

	return {flags: parsed, input};
}

/** argv parsed by meow (loaded only now), as ParsedArgs. */
export async function meowArgs(importMeta: ImportMeta, argv: readonly string[], flags: MeowFlags): Promise<ParsedArgs> {
	const {default: meow} = await import('meow');
	let cli;
	try {
		cli = meow({
			importMeta,
			argv: [...argv],
			flags,
			autoHelp: false,
			autoVersion: false,
			allowUnknownFlags: true,
			booleanDefault: undefined,
		} as Parameters<typeof meow>[0]);
	} catch (error) {
		// Its refusals (a value given twice) are the user's.
		throw new UsageError(error instanceof Error ? error.message : String(error));
	}

	return {flags: cli.flags as Record<string, unknown>, input: cli.input.map(String)};
}

/** A string flag's value, or undefined. */
export function stringFlag(flags: Record<string, unknown>, name: string): string | undefined {
	const value = flags[name];
	return typeof value === 'string' ? value : value === undefined ? undefined : String(value);
}

export interface PrintHandlers<R> {
	/** Print a tool record (not start/lost). */
	record(record: R): void;
	/** Print the startup line(s) and header once tracing runs. */
	start(record: ToolStart): void;
	/** After the last record (not after a closed pipe), before "Ending tracing...". */
	end?(): void;
	/** Where "Ending tracing..." goes: stderr when stdout carries data for another program. */
	readonly ending?: 'stdout' | 'stderr';
}

/**
 * Run a tool: wire the exit signals to an abort, iterate the core, print
 * each record (or its JSON line), report lost events on stderr (each gap,
 * then the total; with --json also a {"type":"lost"} line per gap and a
 * closing {"type":"lost-total"}), and print "Ending tracing..." unless
 * stdout is gone. On a terminal, long replays show their progress on
 * stderr (ProgressLine). Returns the exit status.
 */
export async function runTool<R extends {readonly type: string}>(
	name: string,
	json: boolean,
	core: (signal: AbortSignal) => AsyncIterable<R | ToolStart | ToolLost>,
	handlers: PrintHandlers<R>,
): Promise<number> {
	const lost = new LostReport();
	// Long replays show how far they have got on a terminal's stderr.
	const progress = ProgressLine.start(name);
	try {
		await runRecords(lost, json, core, handlers);
	} finally {
		progress?.stop();
	}

	process.stderr.write(lost.totalLine());
	return 0;
}

/** runTool's loop: each record printed, each gap reported. */
async function runRecords<R extends {readonly type: string}>(
	lost: LostReport,
	json: boolean,
	core: (signal: AbortSignal) => AsyncIterable<R | ToolStart | ToolLost>,
	handlers: PrintHandlers<R>,
): Promise<void> {
	await withExitSignals(async (signal, stdoutGone) => {
		for await (const record of core(signal)) {
			if (stdoutGone()) {
				return;
			}

			if (record.type === 'lost') {
				const gap = record as ToolLost;
				process.stderr.write(lost.gap(gap.count, gap.cpu));
				if (json) {
					process.stdout.write(`${recordJson(gap)}\n`);
				}

				continue;
			}

			if (json) {
				process.stdout.write(`${recordJson(record)}\n`);
			} else if (record.type === 'start') {
				handlers.start(record as ToolStart);
			} else {
				handlers.record(record as R);
			}
		}

		if (stdoutGone()) {
			return;
		}

		if (!json) {
			handlers.end?.();
		} else if (lost.any) {
			// Not "summary": iolatency's histograms are summary records.
			process.stdout.write(`${recordJson({type: 'lost-total', ...lost.total()})}\n`);
		}
	}, json ? false : handlers.ending ?? 'stdout');
}

export {runCli};
