/**
 * meow with perf-tools' -h, for the tools whose flags meow parses; a module
 * of its own so the others (cli.js, tool-cli.js) do not load meow.
 */
import meow, {type AnyFlags, type Options, type Result} from 'meow';
import {showUsage} from './flag-check.js';

/**
 * meow, but -h/--help prints `usage` as perf-tools prints it (showUsage)
 * rather than meow's help (the package description above an indented text).
 */
export function meowWithUsage<F extends AnyFlags>(usage: string, options: Options<F>): Result<F> {
	const cli = meow(usage, {...options, autoHelp: false});
	if ((cli.flags as Record<string, unknown>)['help']) {
		showUsage(usage);
	}

	return cli;
}
