/**
 * The ports' command lines: what node's parseArgs takes (quickArgs) it
 * reads as meow does, flag for flag and operand for operand; what it does
 * not take goes to meow; and the tools answer the same either way.
 */
import {spawnSync} from 'node:child_process';
import {resolve} from 'node:path';
import {fileURLToPath} from 'node:url';
import test from 'ava';
import {checkFlags} from '../src/cli.js';
import {meowArgs, meowFlags, quickArgs, type FlagSpec} from '../src/tool-cli.js';
import {fixtures} from './snoop-helpers.js';

const iosnoopSpecs: FlagSpec[] = [
	{name: 'queue', short: 'Q'},
	{name: 'start', short: 's'},
	{name: 'end', short: 't'},
	{name: 'device', short: 'd', value: true},
	{name: 'iotype', short: 'i', value: true},
	{name: 'pid', short: 'p', value: true},
	{name: 'name', short: 'n', value: true},
	{name: 'foldedStacks'},
];

/** The flags with a value (meow may list absent ones as undefined). */
function defined(flags: Record<string, unknown>): Record<string, unknown> {
	return Object.fromEntries(Object.entries(flags).filter(([, value]) => value !== undefined).sort(([a], [b]) => a.localeCompare(b)));
}

const taken: string[][] = [
	[],
	['5'],
	['-Q'],
	['-Qts'],
	['-Qp', '91'],
	['-Qp91'],
	['-p91', '10'],
	['-d', 'sda1', '-i', 'R', '-n', 'dd'],
	['--queue', '--pid', '12', '3'],
	['--pid=12'],
	['--replay', '/tmp/x.trace', '-ts'],
	['--replay=/tmp/a b.trace'],
	['--json', '--replay', 'f'],
	['-n', 'name with spaces'],
	['-n', ''],
	['-h'],
	['--help'],
	['--man'],
	['--folded-stacks'],
	['--', '-5'],
	['a', '--', '-Q', 'b'],
	['-i', '007'],
	['-p', '1e3'],
	['010', '0x10'],
	['-Q', '-Q'],
	['--queue', '-Qs', '-s'],
];

/** Command lines checkFlags passes that go to meow: negations, dashed values, numbers as operands. */
const toMeow: string[][] = [
	['--no-queue'],
	['-p', '-1'],
	['-1'],
	['--json=1'],
	['--replay', '-ts'],
];

test('what parseArgs takes, it reads as meow does', async t => {
	const flags = meowFlags(iosnoopSpecs);
	for (const argv of taken) {
		checkFlags(argv, flags);
		const quick = quickArgs(argv, flags);
		t.truthy(quick, `parseArgs takes ${JSON.stringify(argv)}`);
		// eslint-disable-next-line no-await-in-loop
		const meow = await meowArgs(import.meta, argv, flags);
		t.deepEqual(defined(quick!.flags), defined(meow.flags), `flags of ${JSON.stringify(argv)}`);
		t.deepEqual(quick!.input, meow.input, `operands of ${JSON.stringify(argv)}`);
	}
});

test('a value given twice is listed, for parseArgs to refuse (meow refuses it itself)', t => {
	t.deepEqual(quickArgs(['-p', '1', '-Qp2', '--pid=3'], meowFlags(iosnoopSpecs))?.flags, {pid: ['1', '2', '3'], queue: true});
	t.deepEqual(quickArgs(['--replay', 'a', '--replay', 'b'], meowFlags(iosnoopSpecs))?.flags, {replay: ['a', 'b']});
});

test('what parseArgs does not take as it is goes to meow', t => {
	const flags = meowFlags(iosnoopSpecs);
	for (const argv of toMeow) {
		t.notThrows(() => {
			checkFlags(argv, flags);
		}, `checkFlags passes ${JSON.stringify(argv)}`);
		t.is(quickArgs(argv, flags), undefined, `${JSON.stringify(argv)} goes to meow`);
	}
});

const bin = (name: string): string => resolve(fileURLToPath(import.meta.url), `../../src/bin/${name}.js`);
const fixture = `${fixtures}iosnoop-3.16.trace`;

test('iosnoop answers the same through meow (a negation) as through parseArgs; values given twice are usage errors', t => {
	const run = (...argv: string[]) => spawnSync(process.execPath, [bin('iosnoop'), ...argv], {encoding: 'utf8'});
	const quick = run('-ts', '--replay', fixture);
	const meow = run('-t', '-s', '--no-queue', '--replay', fixture);
	t.is(quick.status, 0, quick.stderr);
	t.true(quick.stdout.split('\n').length > 10);
	t.is(meow.status, quick.status);
	t.is(meow.stdout, quick.stdout);
	t.is(meow.stderr, quick.stderr);
	for (const argv of [['-p', '1', '-p', '2'], ['-Qp1', '-p', '2']]) {
		const twice = run(...argv, '--replay', fixture);
		t.is(twice.status, 2);
		t.is(twice.stderr, 'iosnoop: option -p was given more than once\n');
		t.is(twice.stdout, '');
	}

	const replays = run('--replay', fixture, '--replay', fixture);
	t.is(replays.status, 2);
	t.is(replays.stderr, 'iosnoop: option --replay was given more than once\n');
	// Through meow (a negation sends it there), its refusal is one line too, exit 2.
	const negated = run('--no-queue', '-p', '1', '-p', '2', '--replay', fixture);
	t.is(negated.status, 2);
	t.is(negated.stderr, 'iosnoop: The flag --pid can only be set once.\n');
	const help = run('-h');
	t.is(help.status, 0);
	t.regex(help.stdout, /^USAGE: iosnoop /);
	t.is(run('--help', '--help').stdout, help.stdout);
});
