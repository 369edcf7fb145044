/**
 * The CLI plumbing of the pipeline tools (flamegraph, stackcollapse-perf),
 * where start-up counts: meow and ./cli.js (which loads all of
 * @ftrace-ts/tracefs) cost ~0.1 s of CPU and ~15 MB of memory. Options
 * node:util's parseArgs takes as they are parse without them; --help, and
 * anything it refuses, go to meow and checkFlags (same help text, same
 * one-line errors); errors are reported by runCli, loaded only then.
 */
import {parseArgs} from 'node:util';
import {checkFlags, endOnClosedPipes, showUsage, type FlagSpec} from './flag-check.js';

type QuickSpec = FlagSpec & Readonly<Record<string, {readonly type: 'boolean' | 'string'}>>;
export type QuickFlags<S extends QuickSpec> = {[K in keyof S]?: S[K]['type'] extends 'boolean' ? boolean : string};

/** Parse argv against a meow-style spec; --help prints `help` and exits 0. Throws UsageError. */
export async function parseQuickFlags<S extends QuickSpec>(importMeta: ImportMeta, argv: string[], help: string, spec: S): Promise<{flags: QuickFlags<S>; input: string[]}> {
	const kebab = (name: string) => name.replaceAll(/[A-Z]/g, c => `-${c.toLowerCase()}`);
	const options: Record<string, {type: 'boolean' | 'string'; short?: string}> = {};
	const canonical = new Map<string, string>();
	for (const [name, flag] of Object.entries(spec)) {
		for (const alias of [name, ...(flag.aliases ?? [])]) {
			options[kebab(alias)] = flag.shortFlag && alias === name ? {type: flag.type, short: flag.shortFlag} : {type: flag.type};
			canonical.set(kebab(alias), name);
		}
	}

	try {
		const {values, positionals, tokens} = parseArgs({args: argv, options, allowPositionals: true, allowNegative: true, strict: true, tokens: true});
		const given = tokens.flatMap(token => (token.kind === 'option' ? [canonical.get(token.name)] : []));
		const flags: Record<string, unknown> = {};
		for (const [key, value] of Object.entries(values)) {
			flags[canonical.get(key)!] = value;
		}

		// Repeated options (or an option and its alias) are left to meow.
		if (!flags['help'] && new Set(given).size === given.length) {
			return {flags: flags as QuickFlags<S>, input: positionals};
		}
	} catch {}

	const {default: meow} = await import('meow');
	const cli = meow(help, {importMeta, flags: spec as never, autoHelp: false, autoVersion: false, allowUnknownFlags: true});
	if ((cli.flags as Record<string, unknown>)['help']) {
		showUsage(help);
	}

	checkFlags(argv, spec);
	return {flags: cli.flags as QuickFlags<S>, input: cli.input};
}

/** runCli's behaviour without loading it up front: EPIPE ends quietly; an error is one line, exit 2 (usage) or 1. */
export async function runQuickCli(name: string, main: () => Promise<number>): Promise<void> {
	endOnClosedPipes();
	try {
		process.exitCode = await main();
	} catch (error) {
		const {runCli} = await import('./cli.js');
		await runCli(name, () => Promise.reject(error));
	}
}
