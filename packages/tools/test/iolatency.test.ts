import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import test from 'ava';
import {assertStateRestored, dd, drive, fixtures, loopDevice, run, start, tracingState} from './snoop-helpers.js';

const histogramHeader = /^ {2}>=\(ms\) \.\. <\(ms\) {3}: I\/O {6}\|Distribution {26}\|$/m;
const row = /^ *(\d+) -> (\d+) *: (\d+) *\|(#*) *\|$/;
let loop: ReturnType<typeof loopDevice>;

test.before(() => {
	loop = loopDevice();
});

test.after.always(() => {
	loop?.detach();
});

function histograms(stdout: string): Array<Array<{from: number; to: number; count: number; bar: string}>> {
	return stdout.split(/\n\n/).filter(block => histogramHeader.test(block)).map(block => block.split('\n').flatMap(line => {
		const match = row.exec(line);
		return match ? [{from: Number(match[1]), to: Number(match[2]), count: Number(match[3]), bar: match[4]!}] : [];
	}));
}

test.serial('live: 20 direct writes on a loop device are counted over 2 intervals, then it exits by count', async t => {
	const before = tracingState();
	const result = await drive('iolatency', ['-T', '-d', loop.dev, '2', '2'], {
		ready: /^Tracing block I\/O\. Output every 2 seconds\.$/m,
		end: 'exit',
		during() {
			for (let i = 0; i < 20; i++) {
				dd(['if=/dev/zero', `of=${loop.path}`, 'bs=4k', `seek=${i}`, 'count=1', 'oflag=direct']);
			}
		},
	});
	t.is(result.code, 0, result.stderr);
	t.regex(result.stderr, /iolatency: stream: block:block_rq_issue -> block:block_rq_complete/);
	const summaries = histograms(result.stdout);
	t.is(summaries.length, 2);
	t.is(summaries.flat().reduce((sum, bucket) => sum + bucket.count, 0), 20);
	for (const summary of summaries) {
		t.deepEqual(summary.map(bucket => [bucket.from, bucket.to]), summary.map((_, index) => [index === 0 ? 0 : 2 ** (index - 1), 2 ** index]));
		const max = Math.max(...summary.map(bucket => bucket.count));
		t.true(summary.every(bucket => bucket.bar.length === (max === 0 ? 0 : Math.ceil((38 * bucket.count) / max))));
	}

	t.regex(result.stdout, /^\d\d:\d\d:\d\d:$/m);
	assertStateRestored(t, before, result.pid);
});

test.serial('-i \'*R*\' ignores writes; --json summaries', async t => {
	const result = await drive('iolatency', ['--json', '-i', '*R*', '-d', loop.dev, '1', '2'], {
		ready: /"type":"start"/,
		end: 'exit',
		during() {
			dd(['if=/dev/zero', `of=${loop.path}`, 'bs=4k', 'count=5', 'oflag=direct']);
		},
	});
	t.is(result.code, 0, result.stderr);
	const records = result.stdout.trim().split('\n').map(line => JSON.parse(line) as {type: string; total?: number});
	t.deepEqual(records.map(record => record.type), ['start', 'summary', 'summary']);
	t.deepEqual(records.slice(1).map(record => record.total), [0, 0]);
});

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
	test.serial(`exit path ${signal}: exit 0, nothing left behind`, async t => {
		const before = tracingState();
		const result = await drive('iolatency', ['-Q'], {ready: /Ctrl-C to end/, end: signal, settleMs: 1300});
		t.is(result.code, 0, result.stderr);
		t.regex(result.stdout, histogramHeader);
		assertStateRestored(t, before, result.pid);
	});
}

test.serial('exit path: closed pipe', async t => {
	const before = tracingState();
	const running = start('iolatency', ['1']);
	await running.waitFor(/Ctrl-C to end/);
	running.child.stdout!.destroy();
	const result = await running.done;
	t.is(result.code, 0, result.stderr);
	assertStateRestored(t, before, result.pid);
});

for (const [args, message] of [
	[['0'], /interval must be a positive number/],
	[['1', 'x'], /count must be an integer/],
	[['1', '0'], /count must be an integer/],
	[['-d', '1,2,3'], /device must be "major,minor"/],
	[['-i', 'W;'], /iotype/],
	[['-p', '1'], /unknown option -p/],
	[['1', '2', '3'], /unexpected argument "3"/],
] as Array<[string[], RegExp]>) {
	test.serial(`bad input ${JSON.stringify(args)}: exit 2, one line`, async t => {
		const before = tracingState();
		const result = await run('iolatency', args);
		t.is(result.code, 2);
		t.regex(result.stderr, message);
		t.is(result.stderr.trim().split('\n').length, 1);
		assertStateRestored(t, before, result.pid);
	});
}

test('replay: old-format (3.x) trace gives the original\'s histogram', async t => {
	const result = await run('iolatency', ['--replay', `${fixtures}iosnoop-3.16.trace`]);
	t.is(result.code, 0, result.stderr);
	const expected = readFileSync(`${fixtures}iolatency-3.16.expected.txt`, 'utf8');
	t.true(result.stdout.includes(expected), result.stdout);
});

test('replay: a request joined across another CPU\'s gap is taken back from the histogram', async t => {
	// As trace_pipe prints it: CPU 1's gap shows only with its next event, after
	// CPU 0's events of the gap's time. Sector 1600's completion and its next
	// issue fell in the gap; joining its first issue to the later completion
	// would make a 1.5 s request that never was.
	const trace = `${[
		'      kworker-50      [000] .....    9.999000: block_rq_issue: 7,3 WS 4096 () 800 + 8 be,0,4 [dd]',
		'      kworker-50      [000] .....    9.999500: block_rq_complete: 7,3 WS () 800 + 8 be,0,4 [0]',
		'           dd-100     [001] .....   10.000000: block_rq_issue: 7,3 WS 4096 () 1600 + 8 be,0,4 [dd]',
		'      kworker-50      [000] .....   11.500000: block_rq_complete: 7,3 WS () 1600 + 8 be,0,4 [0]',
		'CPU:1 [LOST 2 EVENTS]',
		'           dd-100     [001] .....   11.600000: block_rq_issue: 7,3 WS 4096 () 2400 + 8 be,0,4 [dd]',
		'      kworker-50      [000] .....   11.600500: block_rq_complete: 7,3 WS () 2400 + 8 be,0,4 [0]',
	].join('\n')}\n`;
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-iolatency-gap-'));
	t.teardown(() => {
		rmSync(dir, {recursive: true, force: true});
	});
	writeFileSync(join(dir, 'gap.trace'), trace);
	const json = await run('iolatency', ['--json', '--replay', join(dir, 'gap.trace')]);
	t.is(json.code, 0, json.stderr);
	const records = json.stdout.trim().split('\n').map(line => JSON.parse(line) as {type: string});
	t.deepEqual(records.filter(record => record.type !== 'start').map(record => ({...record, time: undefined})), [
		{type: 'lost', count: 2, cpu: 1, time: undefined},
		{type: 'summary', time: undefined, buckets: [{fromMs: 0, toMs: 1, count: 2}], total: 2},
		{type: 'lost-total', count: 2, uncounted: false, time: undefined},
	]);
	const text = await run('iolatency', ['--replay', join(dir, 'gap.trace')]);
	t.is(text.code, 0, text.stderr);
	t.deepEqual(histograms(text.stdout), [[{from: 0, to: 1, count: 2, bar: '#'.repeat(38)}]]);
	t.regex(text.stderr, /^WARNING: 2 events lost \(CPU 1\)$/m);
	t.regex(text.stderr, /^WARNING: 2 events lost in total$/m);
});
