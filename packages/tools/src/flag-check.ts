import {UsageError} from './cli.js';

/**
 * Rejects options the tool does not know, with one line naming the bad one
 * (meow's own report spans several lines). `booleans` take no value;
 * `valued` take one (`--name value` or `--name=value`). Throws UsageError.
 */
export function checkFlags(argv: readonly string[], booleans: readonly string[], valued: readonly string[]): void {
	const known = new Set([...booleans, ...valued]);
	const takesValue = new Set(valued);
	for (let i = 0; i < argv.length; i++) {
		const arg = argv[i]!;
		if (arg === '--') return;
		if (!arg.startsWith('-') || arg === '-' || /^-\d/.test(arg)) continue;
		const [name = '', value] = arg.replace(/^--?/, '').split(/=(.*)/s);
		if (!known.has(name) && !(name.startsWith('no-') && booleans.includes(name.slice(3)))) {
			throw new UsageError(`unknown option ${arg.split('=')[0]}; try --help`);
		}
		if (takesValue.has(name) && value === undefined) {
			if (i + 1 >= argv.length) throw new UsageError(`option --${name} needs a value`);
			i++;
		}
	}
}
