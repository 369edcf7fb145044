import {readFileSync} from 'node:fs';
import {join} from 'node:path';

/** A line of a fixtures folder's cases.txt: an input file and the options to run it with. */
export interface Case {
	input: string;
	args: string[];
	expected: string;
}

/**
 * The cases of `fixtures`/cases.txt ("input | options", "-" for none; "#"
 * comments), which the folder's regenerate.sh also reads: each case's
 * expected output is expected/NAME, named by `name` from the input and the
 * options joined with spaces ("default" for none), as regenerate.sh names it.
 */
export function readCases(fixtures: string, name: (input: string, tag: string) => string): Case[] {
	const cases: Case[] = [];
	for (const line of readFileSync(join(fixtures, 'cases.txt'), 'utf8').split('\n')) {
		if (line.startsWith('#') || !line.includes('|')) continue;
		const [input = '', opts = ''] = line.split('|').map((part) => part.trim());
		const args = opts === '-' ? [] : opts.split(/\s+/);
		const tag = args.length === 0 ? 'default' : args.join(' ');
		cases.push({input, args, expected: join(fixtures, 'expected', name(input, tag))});
	}
	return cases;
}
