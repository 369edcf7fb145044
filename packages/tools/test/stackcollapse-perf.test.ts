import test from 'ava';
import {execFile} from 'node:child_process';
import {existsSync, readFileSync, readdirSync} from 'node:fs';
import {join, resolve} from 'node:path';
import {gunzipSync} from 'node:zlib';
import {fileURLToPath} from 'node:url';
import {readCases as readFixtureCases, type Case} from './fixture-cases.js';
import {PerfStackCollapser, collapsePerf, collapsePerfStream} from '../src/stackcollapse-perf.js';
import type {CollapseOptions} from '../src/stackcollapse-perf.js';

const packageRoot = resolve(fileURLToPath(import.meta.url), '../../..');
const fixtures = join(packageRoot, 'test/fixtures/perf');
const bin = join(packageRoot, 'dist/src/bin/stackcollapse-perf.js');
const fakeBinutils = join(fixtures, 'fake-binutils');

// cases.txt is shared with regenerate.sh, which produced expected/ with the Perl original.
function readCases(): Case[] {
	return readFixtureCases(fixtures, (input, tag) => `${`${input} ${tag}`
		.replace(/\.script(\.gz)?/, '')
		.replaceAll(' --', '.')
		.replaceAll(' ', '.')
		.replaceAll('=', '-')
		.replaceAll(/[^A-Za-z0-9._-]/g, '_')}.folded`);
}

function readInput(input: string): Buffer {
	const raw = readFileSync(join(fixtures, input));
	return input.endsWith('.gz') ? gunzipSync(raw) : raw;
}

function optionsFrom(args: string[]): CollapseOptions {
	const options: CollapseOptions = {};
	for (const arg of args) {
		const [name = '', value] = arg.replace(/^--/, '').split('=');
		if (name === 'event-filter') options.eventFilter = value;
		else (options as Record<string, boolean>)[name] = true;
	}
	return options;
}

function withFakeBinutils<T>(run: () => T): T {
	const saved = process.env['PATH'];
	process.env['PATH'] = `${fakeBinutils}:${saved ?? ''}`;
	try {
		return run();
	} finally {
		process.env['PATH'] = saved;
	}
}

const cases = readCases();

test('every expected file has a case', (t) => {
	const listed = new Set(cases.map((c) => c.expected));
	const files = readdirSync(join(fixtures, 'expected')).map((file) => join(fixtures, 'expected', file));
	t.deepEqual(files.filter((file) => !listed.has(file)), []);
	t.true(cases.length >= 30);
});

const matchesPerl = test.macro({
	exec(t, c: Case) {
		const expected = readFileSync(c.expected, 'latin1');
		const actual = withFakeBinutils(() => collapsePerf(readInput(c.input).toString('latin1'), optionsFrom(c.args)));
		t.is(actual, expected);
	},
	title: (_, c: Case) => `core = stackcollapse-perf.pl: ${c.input} ${c.args.join(' ') || '(no options)'}`,
});

for (const c of cases) test(matchesPerl, c);

test('chunking does not matter: one byte at a time', (t) => {
	const input = readInput('edge-cases.script').toString('latin1');
	const collapser = new PerfStackCollapser({all: true});
	for (const char of input) collapser.write(char);
	collapser.end();
	t.is(collapser.lines().join('\n') + '\n', readFileSync(join(fixtures, 'expected/edge-cases.all.folded'), 'latin1'));
});

test('repeated stacks (the callers looked up as one block) fold as line by line', (t) => {
	// The same caller lines under java and non-java processes, with an
	// unrecognized line, under a filtered event, a (comm) pseudo-frame,
	// a sample with no blank line after it, and at the end of input.
	const callers = '\t2 Ljava/lang/Thread;::run+0x2 (/tmp/perf-1.map)\n\t3 main+0x3 (/usr/bin/app)\n';
	const odd = '\t2 caller+0x2 (/usr/bin/app)\n\tnot a frame line\n\t3 main+0x3 (/usr/bin/app)\n';
	const samples = [
		`java 10/11 [000] 1.0: 1 cpu-clock: \n\t1 leaf+0x1 (/usr/bin/app)\n${callers}\n`,
		`app 12/12 [000] 1.1: 1 cpu-clock: \n\t1 leaf+0x1 (/usr/bin/app)\n${callers}\n`,
		`app 12/12 [000] 1.2: 1 instructions: \n\t1 leaf+0x1 (/usr/bin/app)\n${callers}\n`,
		`app 12/12 [000] 1.3: 7 cpu-clock: \n\t9 other+0x9 (/usr/bin/app)\n${odd}\n`,
		`app 12/12 [000] 1.4: 1 cpu-clock: \n\t1 leaf+0x1 (/usr/bin/app)\n\t4 (app) ([unknown])\n${callers}\n`,
		`app 12/12 [000] 1.5: 1 cpu-clock: \n\t1 leaf+0x1 (/usr/bin/app)\n${callers}java 10/11 [000] 1.6: 1 cpu-clock: \n${callers}\n`,
	];
	const input = [...samples, ...samples, ...samples, samples[0]!.slice(0, -1)].join('');
	for (const options of [{}, {jit: true}, {addrs: true, pid: true}] as CollapseOptions[]) {
		const whole: string[] = [];
		const folded = collapsePerf(input, {...options, onWarning: (message) => whole.push(message)});
		const single: string[] = [];
		const collapser = new PerfStackCollapser({...options, onWarning: (message) => single.push(message)});
		for (const char of input) collapser.write(char);
		collapser.end();
		t.is(folded, collapser.lines().join('\n') + '\n');
		t.deepEqual(whole, single);
		t.is(whole.filter((message) => message.startsWith('Unrecognized')).length, 3);
	}
	// Java-ness changes a frame's name: the blocks are kept per java-ness.
	t.regex(collapsePerf(input), /^java;main;java\/lang\/Thread:::run;leaf 3$/m);
	t.regex(collapsePerf(input), /^app;main;Ljava\/lang\/Thread:::run;leaf 6$/m);
});

test('stream API reads a byte stream', async (t) => {
	async function* chunks() {
		const data = readInput('system-wide.script.gz');
		for (let i = 0; i < data.length; i += 4093) yield data.subarray(i, i + 4093);
	}
	const lines = await collapsePerfStream(chunks(), {pid: true});
	t.is(lines.join('\n') + '\n', readFileSync(join(fixtures, 'expected/system-wide.pid.folded'), 'latin1'));
});

test('warnings: unrecognized lines and event filtering', (t) => {
	const warnings: string[] = [];
	collapsePerf(readInput('edge-cases.script').toString('latin1'), {onWarning: (message) => warnings.push(message)});
	t.true(warnings.includes('Filtering for events of type: instructions:u'));
	t.true(warnings.includes('Unrecognized line: this line is not recognized'));
});

test('counts beyond 2^53 stay exact', (t) => {
	const big = '9007199254740993';
	const text = `prog 1 1.0: ${big} cycles:\n\tf1 f (/x)\n\nprog 1 1.1: ${big} cycles:\n\tf1 f (/x)\n\n`;
	t.is(collapsePerf(text), 'prog;f 18014398509481986\n');
});

interface CliResult {
	code: number;
	stdout: Buffer;
	stderr: string;
}

function runCli(args: string[], input?: Buffer): Promise<CliResult> {
	return new Promise((done) => {
		const child = execFile(process.execPath, [bin, ...args], {encoding: 'buffer', maxBuffer: 1 << 28, env: {...process.env, PATH: `${fakeBinutils}:${process.env['PATH'] ?? ''}`}}, (error, stdout, stderr) => {
			done({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr: stderr.toString()});
		});
		child.stdin!.end(input);
	});
}

const cliMatchesPerl = test.macro({
	async exec(t, c: Case) {
		const result = await runCli(c.args, readInput(c.input));
		t.is(result.code, 0, result.stderr);
		t.true(result.stdout.equals(readFileSync(c.expected)));
	},
	title: (_, c: Case) => `CLI (stdin) = stackcollapse-perf.pl: ${c.input} ${c.args.join(' ') || '(no options)'}`,
});

for (const c of cases.filter((c) => /^(dd-cpu-clock|edge-cases|inline|two-events)/.test(c.input))) test(cliMatchesPerl, c);

test('CLI reads files named as arguments, in order', async (t) => {
	const result = await runCli(['--all', join(fixtures, 'edge-cases.script')]);
	t.is(result.code, 0);
	t.is(result.stdout.toString('latin1'), readFileSync(join(fixtures, 'expected/edge-cases.all.folded'), 'latin1'));
});

const usageError = test.macro({
	async exec(t, args: string[], message: RegExp) {
		const result = await runCli(args, Buffer.alloc(0));
		t.is(result.code, 2);
		t.is(result.stdout.length, 0);
		t.regex(result.stderr, message);
		t.is(result.stderr.trimEnd().split('\n').length, 1, 'one line');
	},
	title: (_, args: string[]) => `CLI usage error: ${args.join(' ')}`,
});

test(usageError, ['--bogus'], /unknown option --bogus/);
test(usageError, ['--event-filter'], /needs a value/);

test('CLI: missing file is a runtime error (exit 1), one line', async (t) => {
	const result = await runCli(['/nonexistent/perf.script']);
	t.is(result.code, 1);
	t.regex(result.stderr, /^stackcollapse-perf: can't read \/nonexistent\/perf.script: ENOENT\n$/);
});

// FlameGraph's own regression inputs (test/*.txt x its 6 options), checked
// against its stackcollapse-perf.pl run live, when a checkout is at hand
// (FLAMEGRAPH_DIR or /tmp/FlameGraph). Its committed results are stale for
// --pid on Java stacks (its own test.sh fails there), so they are not used.
// Its files are CDDL and are not copied into this repository.
const flamegraphDir = process.env['FLAMEGRAPH_DIR'] ?? '/tmp/FlameGraph';
const upstreamTests = join(flamegraphDir, 'test');
if (existsSync(join(flamegraphDir, 'stackcollapse-perf.pl')) && existsSync(upstreamTests)) {
	for (const file of readdirSync(upstreamTests).filter((name) => name.endsWith('.txt'))) {
		test(`upstream inputs: ${file} (pid tid kernel jit all addrs) = live Perl`, async (t) => {
			const input = readFileSync(join(upstreamTests, file), 'latin1');
			for (const opt of ['pid', 'tid', 'kernel', 'jit', 'all', 'addrs']) {
				const expected = await new Promise<string>((done, fail) => {
					execFile('perl', [join(flamegraphDir, 'stackcollapse-perf.pl'), `--${opt}`, join(upstreamTests, file)], {encoding: 'latin1', maxBuffer: 1 << 28}, (error, stdout) => {
						if (error) fail(error);
						else done(stdout);
					});
				});
				t.is(collapsePerf(input, {[opt]: true}), expected, opt);
			}
		});
	}
}
