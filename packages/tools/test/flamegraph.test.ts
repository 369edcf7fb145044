import test from 'ava';
import {execFile} from 'node:child_process';
import {mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join, resolve} from 'node:path';
import {gunzipSync} from 'node:zlib';
import {fileURLToPath} from 'node:url';
import {readCases as readFixtureCases, type Case} from './fixture-cases.js';
import {cFixed, flameGraphFromFolded, perlNumber, renderFlameGraph, type FlameGraphOptions} from '../src/flamegraph.js';

const packageRoot = resolve(fileURLToPath(import.meta.url), '../../..');
const fixtures = join(packageRoot, 'test/fixtures/flamegraph');
const bin = join(packageRoot, 'dist/src/bin/flamegraph.js');

function readCases(): Case[] {
	return readFixtureCases(fixtures, (input, tag) => `${`${input} ${tag}`.replace('.folded', '').replaceAll(' --', '.').replaceAll(' ', '.').replaceAll(/[^A-Za-z0-9._-]/g, '_')}.frames`);
}

function optionsFrom(args: string[]): FlameGraphOptions {
	const options: Record<string, unknown> = {};
	const numeric = new Set(['width', 'height', 'fontsize', 'fontwidth', 'total', 'factor']);
	for (const arg of args) {
		const [name = '', value] = arg.replace(/^--/, '').split(/=(.*)/s);
		options[name] = value === undefined ? true : numeric.has(name) ? Number(value) : value;
	}
	return options as FlameGraphOptions;
}

const utf8Order = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

/** The drawing only, as regenerate.sh extracts it from flamegraph.pl's output. */
function drawing(svg: string): string {
	const svgTag = /(<svg [^>]*>)/.exec(svg)?.[1] ?? '';
	const layout = /(<rect x="0.0" y="0".*?)<g id="frames">\n/s.exec(svg)?.[1] ?? '';
	const frames = /<g id="frames">\n(.*)<\/g>\n<\/svg>/s.exec(svg)?.[1] ?? '';
	const blocks = frames.match(/<(?:g|a) [^\n]*>\n.*?\n<\/(?:g|a)>\n/gs) ?? [];
	return `${svgTag}\n${layout}${blocks.sort(utf8Order).join('')}`;
}

const cases = readCases();

test('every expected drawing has a case', (t) => {
	const listed = new Set(cases.map((c) => c.expected));
	t.deepEqual(readdirSync(join(fixtures, 'expected')).map((file) => join(fixtures, 'expected', file)).filter((file) => !listed.has(file)), []);
});

const sameDrawing = test.macro({
	exec(t, c: Case) {
		const result = flameGraphFromFolded(readFileSync(join(fixtures, c.input), 'utf8'), optionsFrom(c.args));
		t.true(result.ok);
		t.is(drawing(result.svg), readFileSync(c.expected, "utf8"));
	},
	title: (_, c: Case) => `drawing = flamegraph.pl: ${c.input} ${c.args.join(' ') || '(no options)'}`,
});

for (const c of cases) test(sameDrawing, c);

test('number formatting follows C printf and Perl', (t) => {
	t.is(cFixed(0.25, 1), '0.2');
	t.is(cFixed(0.75, 1), '0.8');
	t.is(cFixed(0.125, 2), '0.12');
	t.is(cFixed(2.5, 0), '2');
	t.is(cFixed(3.5, 0), '4');
	t.is(cFixed(-0.25, 1), '-0.2');
	t.is(cFixed(12.3456, 2), '12.35');
	t.is(perlNumber(0.1 + 0.2), '0.3');
	t.is(perlNumber(1 / 3), '0.333333333333333');
	t.is(perlNumber(1e21), '1e+21');
	t.is(perlNumber(0.00001), '1e-05');
	t.is(perlNumber(63.5), '63.5');
});

// Structural checks on a small graph: a;b 3, a;c 1, d 4 (total 8).
const small = ['a;b 3', 'a;c 1', 'd 4'];

interface Frame {
	title: string;
	x: number;
	y: number;
	width: number;
	text: string;
}

function framesOf(svg: string): Frame[] {
	const frames: Frame[] = [];
	for (const m of svg.matchAll(/<title>([^<]*)<\/title><rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"[^\n]*\n<text {2}x="[\d.]+" y="[\d.]+" >([^<]*)<\/text>/g)) {
		frames.push({title: m[1]!, x: Number(m[2]), y: Number(m[3]), width: Number(m[4]), text: m[5]!});
	}
	return frames;
}

function frame(frames: Frame[], name: string): Frame {
	const found = frames.find((f) => f.title.startsWith(`${name} (`));
	if (!found) throw new Error(`no frame ${name}`);
	return found;
}

test('frames, widths and titles', (t) => {
	const result = renderFlameGraph(small, {hash: true});
	const frames = framesOf(result.svg);
	t.is(result.frames, 5);
	t.is(frames.length, 5);
	t.is(frame(frames, 'all').title, 'all (8 samples, 100%)');
	t.is(frame(frames, 'all').width, 1180);
	t.is(frame(frames, 'a').width, 590);
	t.is(frame(frames, 'b').title, 'b (3 samples, 37.50%)');
	t.is(frame(frames, 'b').width, 442.5);
	t.is(frame(frames, 'd').x, 600);
	t.is(frame(frames, 'c').text, 'c');
	t.regex(result.svg, /<text id="title" x="600.00" y="24" >Flame Graph<\/text>/);
	t.is(result.total, 8);
});

test('deterministic: same input and options give the same bytes', (t) => {
	for (const options of [{}, {hash: true}, {colors: 'java'}] as FlameGraphOptions[]) {
		t.is(renderFlameGraph(small, options).svg, renderFlameGraph(small, options).svg);
	}
});

test('--inverted puts the root at the top and titles an icicle graph', (t) => {
	const flame = framesOf(renderFlameGraph(small).svg);
	const icicle = renderFlameGraph(small, {inverted: true});
	const frames = framesOf(icicle.svg);
	t.true(frame(flame, 'all').y > frame(flame, 'a').y);
	t.true(frame(frames, 'all').y < frame(frames, 'a').y);
	t.is(frame(frames, 'all').y, 36);
	t.regex(icicle.svg, />Icicle Graph</);
});

test('--reverse merges from the leaf end', (t) => {
	const frames = framesOf(renderFlameGraph(['a;x 2', 'b;x 3'], {reverse: true}).svg);
	t.is(frame(frames, 'x').title, 'x (5 samples, 100.00%)');
	t.is(frames.filter((f) => f.title.startsWith('x (')).length, 1);
	const normal = framesOf(renderFlameGraph(['a;x 2', 'b;x 3']).svg);
	t.is(normal.filter((f) => f.title.startsWith('x (')).length, 2);
});

test('--flamechart keeps input order and does not merge', (t) => {
	const result = renderFlameGraph(['b 1', 'a 1', 'b 1'], {flamechart: true});
	const frames = framesOf(result.svg).filter((f) => !f.title.startsWith('all'));
	t.deepEqual(frames.map((f) => [f.title.split(' ')[0], f.x]).sort((p, q) => Number(p[1]) - Number(q[1])), [['b', 10], ['a', 403.3], ['b', 796.7]]);
	t.regex(result.svg, />Flame Chart</);
	const merged = framesOf(renderFlameGraph(['b 1', 'a 1', 'b 1']).svg);
	t.is(merged.length, 3);
});

test('differential colours, and --negate swaps them', (t) => {
	const svg = renderFlameGraph(['main;grew 1 5', 'main;shrank 5 1']).svg;
	t.regex(svg, /<title>grew \(5 samples, 83.33%; \+66.67%\)<\/title><rect [^>]*fill="rgb\(255,0,0\)"/);
	t.regex(svg, /<title>shrank \(1 samples, 16.67%; -66.67%\)<\/title><rect [^>]*fill="rgb\(0,0,255\)"/);
	const negated = renderFlameGraph(['main;grew 1 5', 'main;shrank 5 1'], {negate: true}).svg;
	t.regex(negated, /<title>grew \(5 samples, 83.33%; -66.67%\)<\/title><rect [^>]*fill="rgb\(0,0,255\)"/);
});

test('--minwidth prunes narrow frames, in pixels or percent', (t) => {
	const lines = ['a;big 990', 'a;small 10'];
	t.is(renderFlameGraph(lines).frames, 4);
	t.is(renderFlameGraph(lines, {minwidth: 12}).frames, 3);
	t.is(renderFlameGraph(lines, {minwidth: '1.1%'}).frames, 3);
	t.is(renderFlameGraph(lines, {minwidth: '0.9%'}).frames, 4);
});

test('labels are truncated with ".." and escaped', (t) => {
	const frames = framesOf(renderFlameGraph(['a_very_long_function_name_indeed 1', 'x<y>&z 100'], {width: 400}).svg);
	t.is(frame(frames, 'x&lt;y&gt;&amp;z').text, 'x&lt;y&gt;&amp;z');
	t.is(frame(frames, 'a_very_long_function_name_indeed').text, '');
	const wider = framesOf(renderFlameGraph(['a_very_long_function_name_indeed 10', 'y 20']).svg);
	t.is(frame(wider, 'a_very_long_function_name_indeed').text, 'a_very_long_function_name_indeed');
	const narrow = framesOf(renderFlameGraph(['a_very_long_function_name_indeed 10', 'y 200']).svg);
	t.regex(frame(narrow, 'a_very_long_function_name_indeed').text, /^a_ver.*\.\.$/);
});

test('no counts: an error SVG, not ok', (t) => {
	const result = renderFlameGraph(['no counts here']);
	t.false(result.ok);
	t.is(result.ignored, 1);
	t.regex(result.svg, /ERROR: No valid input/);
});

test('bad options throw, naming the option', (t) => {
	t.throws(() => renderFlameGraph(small, {colors: 'pink'}), {message: /--colors pink/});
	t.throws(() => renderFlameGraph(small, {notes: '<b>'}), {message: /--notes/});
	t.throws(() => renderFlameGraph(small, {minwidth: 'x'}), {message: /--minwidth/});
	t.throws(() => renderFlameGraph(small, {width: 0}), {message: /--width/});
	t.throws(() => renderFlameGraph(small, {bgcolors: 'pink'}), {message: /--bgcolors/});
});

test('consistent palette: existing colours are kept, new ones added', (t) => {
	const palette = new Map([['a', 'rgb(1,2,3)']]);
	const svg = renderFlameGraph(small, {palette}).svg;
	t.regex(svg, /<title>a \(4 samples, 50.00%\)<\/title><rect [^>]*fill="rgb\(1,2,3\)"/);
	t.true(palette.has('b') && palette.has('d'));
});

test('embedded script: no CDATA break, and init/zoom/search present', (t) => {
	const svg = renderFlameGraph(['a]]>b 1'], {nametype: ']]>'}).svg;
	const script = /<!\[CDATA\[(.*?)\]\]>/s.exec(svg)?.[1] ?? '';
	for (const name of ['function init(', 'function zoom(', 'function unzoom(', 'function search(', 'function resetSearch(']) t.true(script.includes(name), name);
	t.false(script.includes(']]>'));
});

interface CliResult {
	code: number;
	stdout: string;
	stderr: string;
}

function runCli(args: string[], input = '', cwd?: string): Promise<CliResult> {
	return new Promise((done) => {
		const child = execFile(process.execPath, [bin, ...args], {encoding: 'utf8', maxBuffer: 1 << 28, cwd}, (error, stdout, stderr) => {
			done({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr});
		});
		child.stdin!.end(input);
	});
}

test('CLI renders a file, same drawing as flamegraph.pl', async (t) => {
	const c = cases.find((item) => item.args.join(' ') === '--hash' && item.input === 'mixed.folded')!;
	const result = await runCli(['--hash', join(fixtures, 'mixed.folded')]);
	t.is(result.code, 0);
	t.is(drawing(result.stdout), readFileSync(c.expected, 'utf8'));
	t.regex(result.stderr, /Ignored 1 lines with invalid format/);
});

function runBytes(script: string, args: string[], input: Buffer): Promise<{code: number; stdout: Buffer; stderr: string}> {
	return new Promise((done) => {
		const child = execFile(process.execPath, [script, ...args], {encoding: 'buffer', maxBuffer: 1 << 28}, (error, stdout, stderr) => {
			done({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr: stderr.toString()});
		});
		child.stdin!.end(input);
	});
}

const perfFixtures = join(packageRoot, 'test/fixtures/perf');
const collapseBin = join(packageRoot, 'dist/src/bin/stackcollapse-perf.js');

for (const [file, args] of [['edge-cases.script', ['--hash']], ['dd-cpu-clock.script', []], ['system-wide.script.gz', ['--hash', '--inverted']], ['two-events.script.gz', ['--colors', 'java', '--hash']]] as const) {
	test(`CLI --perf = stackcollapse-perf | flamegraph, byte for byte: ${file} ${args.join(' ')}`, async (t) => {
		const raw = readFileSync(join(perfFixtures, file));
		const input = file.endsWith('.gz') ? gunzipSync(raw) : raw;
		const folded = await runBytes(collapseBin, [], input);
		t.is(folded.code, 0);
		const twoStep = await runBytes(bin, [...args], folded.stdout);
		const oneStep = await runBytes(bin, ['--perf', ...args], input);
		t.is(oneStep.code, twoStep.code);
		t.true(oneStep.stdout.equals(twoStep.stdout));
		t.is(oneStep.stderr, folded.stderr + twoStep.stderr);
		t.regex(oneStep.stdout.toString(), /<rect /);
	});
}

test('CLI --perf reads files named as arguments, in order; a missing one is an error', async (t) => {
	const file = join(perfFixtures, 'dd-cpu-clock.script');
	const both = await runBytes(bin, ['--perf', '--hash', file, file], Buffer.alloc(0));
	const doubled = await runBytes(bin, ['--perf', '--hash'], Buffer.concat([readFileSync(file), readFileSync(file)]));
	t.is(both.code, 0);
	t.true(both.stdout.equals(doubled.stdout));
	const missing = await runBytes(bin, ['--perf', join(perfFixtures, 'no-such.script')], Buffer.alloc(0));
	t.is(missing.code, 1);
	t.regex(missing.stderr, /^flamegraph: can't read .*no-such\.script: ENOENT\n$/);
});

test('CLI reads stdin; --color is an alias of --colors', async (t) => {
	const a = await runCli(['--color=java', '--hash'], small.join('\n'));
	const b = await runCli(['--colors', 'java', '--hash'], small.join('\n'));
	t.is(a.code, 0);
	t.is(a.stdout, b.stdout);
});

test('CLI: no valid input prints an error SVG and exits 2', async (t) => {
	const result = await runCli([], 'nothing\n');
	t.is(result.code, 2);
	t.regex(result.stdout, /ERROR: No valid input/);
});

test('CLI --cp reads and writes the palette file', async (t) => {
	const dir = mkdtempSync(join(tmpdir(), 'fg-cp-'));
	try {
		writeFileSync(join(dir, 'mine.map'), 'a->rgb(9,9,9)\n');
		const result = await runCli(['--cp', '--palfile', join(dir, 'mine.map')], small.join('\n'), dir);
		t.is(result.code, 0);
		t.regex(result.stdout, /fill="rgb\(9,9,9\)"/);
		t.regex(readFileSync(join(dir, 'mine.map'), 'utf8'), /^->rgb\(\d+,\d+,\d+\)\na->rgb\(9,9,9\)\nb->rgb\(\d+,\d+,\d+\)\n/);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

const usageError = test.macro({
	async exec(t, args: string[], message: RegExp) {
		const result = await runCli(args, small.join('\n'));
		t.is(result.code, 2);
		t.is(result.stdout, '');
		t.regex(result.stderr, message);
		t.is(result.stderr.trimEnd().split('\n').length, 1);
	},
	title: (_, args: string[]) => `CLI usage error: ${args.join(' ')}`,
});

test(usageError, ['--bogus'], /^flamegraph: unknown option --bogus/);
test(usageError, ['--width', 'wide'], /--width wide: expected an integer/);
test(usageError, ['--colors', 'pink'], /--colors pink: choose one of/);
test(usageError, ['--minwidth', 'abc'], /--minwidth abc/);
test(usageError, ['--notes', '<x>'], /--notes/);
test(usageError, ['--title'], /--title needs a value/);
