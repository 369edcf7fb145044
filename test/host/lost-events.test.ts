/**
 * Lost events: under an event rate the buffer cannot hold, a tool reports the
 * lost count, and none prints wrong pairings across the gap. A tiny-buffer
 * iosnoop runs beside a large-buffer one on the same I/O; every row the
 * tiny one prints must be a real request, one the large one saw too.
 * iolatency likewise beside a large-buffer twin, its reader stopped across
 * a burst; uprobe with its reader stopped across a known number of calls,
 * each printed or counted lost. Every run leaves the tracing state as it was.
 * kprobe and the function tools: test/vm/lost-events.vm.ts.
 */
import {execFileSync, spawn, type ChildProcess} from 'node:child_process';
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import {setTimeout as sleep} from 'node:timers/promises';
import test, {type ExecutionContext} from 'ava';
import {startTool, stateDiff, toolBin, tracingState, withoutOthers, type RunResult} from '../lib/harness.js';

/** Nothing of these runs is left, and nothing else changed (other ftrace-ts processes' names aside). */
function assertStateKept(t: ExecutionContext, before: string, runs: readonly RunResult[]): void {
	const after = tracingState();
	for (const run of runs) {
		t.deepEqual(stateDiff(withoutOthers(before, run.pid), withoutOthers(after, run.pid)), [], `tracing state changed by PID ${run.pid ?? '?'}`);
	}
}

/** A loop device over a 16 MB file; `minor` for -d 7,minor. */
function loopDevice(): {device: string; minor: number; remove(): void} {
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-lost-'));
	const image = join(dir, 'disk.img');
	execFileSync('truncate', ['-s', '16M', image]);
	const device = execFileSync('losetup', ['-f', '--show', image], {encoding: 'utf8'}).trim();
	const minor = Number(readFileSync(`/sys/class/block/${device.slice(5)}/dev`, 'utf8').split(':')[1]);
	return {
		device,
		minor,
		remove() {
			execFileSync('losetup', ['-d', device]);
			rmSync(dir, {recursive: true, force: true});
		},
	};
}

/** Stop a tool's process (its reader with it) for `ms`, then let it run on. */
async function stopFor(children: readonly ChildProcess[], ms: number): Promise<void> {
	for (const child of children) {
		child.kill('SIGSTOP');
	}

	try {
		await sleep(ms);
	} finally {
		for (const child of children) {
			child.kill('SIGCONT');
		}
	}
}

interface Row {
	start: number;
	end: number;
	pid: string;
	dev: string;
	block: string;
	latency: number;
}

function rows(stdout: string): Row[] {
	return stdout.split('\n')
		.map(line => line.trim().split(/\s+/))
		.filter(cols => cols.length === 9 && /^\d+\.\d+$/.test(cols[0]!))
		.map(cols => ({start: Number(cols[0]), end: Number(cols[1]), pid: cols[3]!, dev: cols[5]!, block: cols[6]!, latency: Number(cols[8])}));
}

test.serial('iosnoop with a tiny buffer reports its losses and pairs nothing across the gap', async t => {
	const before = tracingState();
	const {device, minor, remove} = loopDevice();
	try {
		// Buffered mode (a duration): the tiny ring buffer overwrites what it cannot hold.
		const args = ['-st', '-d', `7,${minor}`, '8'];
		const small = startTool(toolBin('iosnoop'), args, {FTRACE_TS_BUFFER_KB: '4'});
		const large = startTool(toolBin('iosnoop'), args, {FTRACE_TS_BUFFER_KB: '16384'});
		await Promise.all([small.started, large.started]);
		await sleep(500);
		// Few sectors, written over and over: a stale issue left by a gap would
		// pair with a later completion of the same sector if the tool let it.
		const flood = spawn('bash', ['-c', `for i in $(seq 1 1000); do dd if=/dev/zero of=${device} bs=4k count=1 seek=$((i % 4)) oflag=direct status=none; done`], {stdio: 'ignore'});
		await new Promise(resolve => flood.on('close', resolve));
		await sleep(500);
		const [tiny, big] = await Promise.all([small.done, large.done]);
		t.is(tiny.code, 0, tiny.stderr);
		t.is(big.code, 0, big.stderr);
		const lost = /WARNING: (\d+)\+? events lost in total/.exec(tiny.stderr);
		t.truthy(lost, `the tiny buffer reports lost events: ${tiny.stderr}`);
		t.true(Number(lost?.[1] ?? 0) > 0);
		const truth = rows(big.stdout);
		const seen = rows(tiny.stdout);
		t.notRegex(big.stderr, /lost/, 'the large buffer lost nothing');
		t.true(truth.length >= 100, `the large buffer saw the I/O (${truth.length} rows)`);
		t.true(seen.length < truth.length, 'the tiny buffer lost some');
		// Every row of the tiny run is a real request: same sector, PID, and
		// times within a few microseconds (each instance stamps its own copy).
		const wrong = seen.filter(row => !truth.some(real => real.block === row.block && real.pid === row.pid
			&& Math.abs(real.start - row.start) < 0.000_05 && Math.abs(real.end - row.end) < 0.000_05));
		t.deepEqual(wrong, [], `no pairing across a gap; the large buffer had: ${JSON.stringify(truth.filter(real => wrong.some(row => row.pid === real.pid || Math.abs(real.start - row.start) < 0.05)))}`);
		assertStateKept(t, before, [tiny, big]);
	} finally {
		remove();
	}
});

test.serial('opensnoop with a tiny buffer reports its losses and names no open wrongly across the gap', async t => {
	const before = tracingState();
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-lost-open-'));
	try {
		const marker = `lost_open_${process.pid}`;
		// One process makes every open (a kernel PID filter keeps other
		// processes' opens out of both buffers); each names a different missing
		// file, so a name carried across a gap onto another open would show.
		const flood = spawn('python3', ['-c', `import time\ntime.sleep(3)\nfor i in range(1, 401):\n    try: open('${dir}/${marker}_%d' % i)\n    except OSError: pass\n`], {stdio: 'ignore'});
		const flooded = new Promise(resolve => flood.on('close', resolve));
		const args = ['-x', '-p', String(flood.pid), '-d', '7', marker];
		// Buffered mode: the tiny ring buffer overwrites what it cannot hold.
		const small = startTool(toolBin('opensnoop'), args, {FTRACE_TS_BUFFER_KB: '4'});
		const large = startTool(toolBin('opensnoop'), args, {FTRACE_TS_BUFFER_KB: '16384'});
		await Promise.all([small.started, large.started]);
		await flooded;
		const [tiny, big] = await Promise.all([small.done, large.done]);
		t.is(tiny.code, 0, tiny.stderr);
		t.is(big.code, 0, big.stderr);
		t.regex(tiny.stderr, /events lost/, `the tiny buffer reports lost events: ${tiny.stderr}`);
		t.notRegex(big.stderr, /events lost/, 'the large buffer lost nothing');
		const opens = (stdout: string) => stdout.split('\n').filter(line => line.includes(`${marker}_`)).map(line => {
			const cols = line.trim().split(/\s+/);
			return `${cols[1]!} ${cols.at(-1)!}`;
		});
		const truth = new Set(opens(big.stdout));
		const seen = opens(tiny.stdout);
		t.is(truth.size, 400, `the large buffer saw every open: ${big.stdout.slice(0, 500)}`);
		t.true(seen.length < truth.size, 'the tiny buffer lost some');
		t.deepEqual(seen.filter(open => !truth.has(open)), [], 'every name printed belongs to its own open (PID and file)');
		assertStateKept(t, before, [tiny, big]);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

for (const [tool, args] of [['tpoint', ['-d', '4', 'syscalls:sys_enter_openat']], ['execsnoop', ['-d', '4']]] as const) {
	test.serial(`${tool} with a tiny buffer reports the lost count`, async t => {
		const before = tracingState();
		const {device, remove} = loopDevice();
		try {
			const run = startTool(toolBin(tool), args, {FTRACE_TS_BUFFER_KB: '4'});
			await run.started;
			await sleep(300);
			// Opens, execs and direct I/O, faster than a 4 KB buffer holds for 4 s.
			const flood = spawn('bash', ['-c', `dd if=/dev/zero of=${device} bs=512 count=20000 oflag=direct status=none & for i in $(seq 1 400); do /bin/true; cat /etc/hostname > /dev/null; done; wait`], {stdio: 'ignore'});
			const flooded = new Promise(resolve => flood.on('close', resolve));
			await flooded;
			const result = await run.done;
			t.is(result.code, 0, result.stderr);
			// Counted from the per_cpu stats: a buffer dump alone only says a CPU's data starts late.
			const total = /^WARNING: (\d+)\+? events lost in total$/m.exec(result.stderr);
			t.true(Number(total?.[1]) > 0, result.stderr);
			assertStateKept(t, before, [result]);
		} finally {
			remove();
		}
	});
}

interface HistogramSummary {
	readonly buckets: ReadonlyArray<{readonly count: number}>;
}

interface IolatencyJson {
	readonly type: string;
	readonly count?: number;
	readonly cpu?: number;
	readonly buckets?: HistogramSummary['buckets'];
}

/** Histogram counts summed over every summary, by bucket index. */
function bucketTotals(summaries: readonly HistogramSummary[]): number[] {
	const totals: number[] = [];
	for (const summary of summaries) {
		for (const [index, bucket] of summary.buckets.entries()) {
			totals[index] = (totals[index] ?? 0) + bucket.count;
		}
	}

	return totals;
}

/** The summaries of iolatency's text output: rows "  from -> to  : count  |bar|". */
function textSummaries(stdout: string): HistogramSummary[] {
	return stdout.split(/\n\s*>=\(ms\)[^\n]*\n/).slice(1).map(block => ({
		buckets: block.split('\n').map(line => /^\s*\d+ -> \d+\s*: (\d+)\s*\|/.exec(line)).filter(match => match !== null).map(match => ({count: Number(match[1])})),
	}));
}

test.serial('iolatency with a tiny buffer reports its losses, in text and JSON, and its histogram holds only real requests', async t => {
	const before = tracingState();
	const loop = loopDevice();
	try {
		const args = ['-d', `7,${loop.minor}`, '1'];
		const text = startTool(toolBin('iolatency'), args, {FTRACE_TS_BUFFER_KB: '4'});
		const json = startTool(toolBin('iolatency'), ['--json', ...args], {FTRACE_TS_BUFFER_KB: '4'});
		const large = startTool(toolBin('iolatency'), ['--json', ...args], {FTRACE_TS_BUFFER_KB: '16384'});
		await Promise.all([text.started, json.started, large.started]);
		await sleep(500);
		// The same 16 sectors written again and again: an issue read before
		// the gap whose completion fell in it would pair with a completion of
		// the same sector after the gap, a latency as long as the stop.
		const rounds = 300;
		const flood = spawn('bash', ['-c', `for i in $(seq 1 ${rounds}); do dd if=/dev/zero of=${loop.device} bs=4k count=16 oflag=direct status=none; done`], {stdio: 'ignore'});
		const flooded = new Promise(resolve => flood.on('close', resolve));
		// The tiny runs' readers stop in the middle of the flood, as a reader
		// starved of CPU would: the kernel overwrites what they have not read.
		await sleep(300);
		await stopFor([text.child, json.child], 1500);
		await flooded;
		// Summaries every second: let one cover the last requests.
		await sleep(2500);
		for (const run of [text, json, large]) {
			run.child.kill('SIGINT');
		}

		const results = await Promise.all([text.done, json.done, large.done]);
		const [textRun, jsonRun, largeRun] = results;
		for (const result of results) {
			t.is(result.code, 0, result.stderr);
		}

		const records = (stdout: string) => stdout.split('\n').filter(line => line.startsWith('{')).map(line => JSON.parse(line) as IolatencyJson);
		const truthRecords = records(largeRun!.stdout);
		t.false(truthRecords.some(record => record.type.startsWith('lost')), 'the large buffer lost nothing');
		t.notRegex(largeRun!.stderr, /lost/);
		const summariesOf = (list: IolatencyJson[]) => list.filter((record): record is IolatencyJson & HistogramSummary => record.type === 'summary' && record.buckets !== undefined);
		const truth = bucketTotals(summariesOf(truthRecords));
		const requests = truth.reduce((sum, count) => sum + count, 0);
		t.true(requests >= rounds * 16, `the large buffer saw every write (${requests} of ${rounds * 16})`);

		const jsonRecords = records(jsonRun!.stdout);
		const gaps = jsonRecords.filter(record => record.type === 'lost');
		t.true(gaps.length > 0, `the tiny buffer's JSON has lost records: ${jsonRun!.stdout.slice(0, 300)}`);
		for (const gap of gaps) {
			t.true(Number.isInteger(gap.count) && gap.count! > 0 && Number.isInteger(gap.cpu), JSON.stringify(gap));
		}

		const gapTotal = gaps.reduce((sum, gap) => sum + gap.count!, 0);
		t.deepEqual(jsonRecords.at(-1), {type: 'lost-total', count: gapTotal, uncounted: false}, 'the JSON ends with the total');
		for (const [label, run, summaries] of [
			['text', textRun!, textSummaries(textRun!.stdout)],
			['json', jsonRun!, summariesOf(jsonRecords)],
		] as const) {
			const stderrGaps = [...run.stderr.matchAll(/^WARNING: (\d+) events lost \(CPU \d+\)$/gm)].map(match => Number(match[1]));
			const total = /^WARNING: (\d+) events lost in total$/m.exec(run.stderr);
			t.truthy(total, `${label}: the total on stderr: ${run.stderr}`);
			const lost = Number(total?.[1]);
			t.is(stderrGaps.reduce((sum, count) => sum + count, 0), lost, `${label}: the total adds up the gaps`);
			const counts = bucketTotals(summaries);
			const seen = counts.reduce((sum, count) => sum + count, 0);
			t.true(seen > 0 && seen < requests, `${label}: the tiny buffer paired some requests, not all (${seen} of ${requests})`);
			// A request the tiny run did not pair lost its issue, its completion
			// or both, or was dropped at a gap without losing either (in flight,
			// or joined on another CPU before the gap showed): a few per gap, no
			// more than a 4 KB buffer's worth. So the count is neither counted
			// twice nor hidden.
			const missing = requests - seen;
			t.true(lost <= 2 * missing, `${label}: ${lost} lost events for ${missing} missing requests: counted twice?`);
			t.true(lost >= missing - (64 * stderrGaps.length), `${label}: ${lost} lost events for ${missing} missing requests: losses hidden?`);
			// No pairing across a gap: nothing slower than the slowest real request.
			t.true(counts.length <= truth.length, `${label}: latency buckets ${JSON.stringify(counts)} beyond the real ones ${JSON.stringify(truth)}`);
			t.log(`${label}: ${seen} of ${requests} requests paired, ${lost} events lost in ${stderrGaps.length} gaps; buckets ${JSON.stringify(counts)}, the large buffer's ${JSON.stringify(truth)}`);
		}

		assertStateKept(t, before, results);
	} finally {
		loop.remove();
	}
});

/** A program calling target_func(i) for i = 0..n-1 as fast as it can. */
function compileHotLoop(dir: string): string {
	writeFileSync(join(dir, 'hot.c'), `#include <stdio.h>
#include <stdlib.h>
__attribute__((noinline)) int target_func(int x) { __asm__ volatile(""); return x * 2; }
int main(int argc, char **argv) {
	int n = atoi(argv[1]), sum = 0;
	for (int i = 0; i < n; i++) sum += target_func(i);
	printf("%d\\n", sum);
	return 0;
}
`);
	execFileSync('gcc', ['-O1', '-o', join(dir, 'hot'), join(dir, 'hot.c')]);
	return join(dir, 'hot');
}

/** The x=N of each target_func line, in output order. */
function callNumbers(lines: readonly string[]): number[] {
	return lines.flatMap(line => {
		const match = / target_func: \(0x[\da-f]+\) x=(\d+)$/.exec(line);
		return match ? [Number(match[1])] : [];
	});
}

function assertCallsAccounted(t: ExecutionContext, label: string, numbers: readonly number[], lost: number, calls: number): void {
	t.true(numbers.length > 0 && numbers.length < calls, `${label}: some calls printed, not all (${numbers.length})`);
	t.true(numbers.every((x, index) => x >= 0 && x < calls && (index === 0 || x > numbers[index - 1]!)), `${label}: only real calls, in order, none twice`);
	// Only this program fires the probe, and the buffer is drained before the
	// end: every call is either printed or counted lost.
	t.is(numbers.length + lost, calls, `${label}: ${numbers.length} printed + ${lost} lost`);
}

test.serial('uprobe with a tiny buffer reports the lost count: printed + lost = calls made, live (reader stopped) and buffered (--json)', async t => {
	const before = tracingState();
	const dir = mkdtempSync(join(tmpdir(), 'ftrace-ts-lost-uprobe-'));
	try {
		const hot = compileHotLoop(dir);
		const calls = 20_000;
		const probe = `p:${hot}:target_func x=%di:s32`;

		const live = startTool(toolBin('uprobe'), [probe], {FTRACE_TS_BUFFER_KB: '4'});
		await live.started;
		// The reader stopped while every call is made: the kernel overwrites
		// all but the last few; then it reads those and the gap, and ends.
		live.child.kill('SIGSTOP');
		try {
			execFileSync(hot, [String(calls)]);
		} finally {
			live.child.kill('SIGCONT');
		}

		await sleep(1000);
		live.child.kill('SIGINT');
		const liveRun = await live.done;
		t.is(liveRun.code, 0, liveRun.stderr);
		const gaps = [...liveRun.stderr.matchAll(/^WARNING: (\d+) events lost \(CPU \d+\)$/gm)].map(match => Number(match[1]));
		const total = Number(/^WARNING: (\d+) events lost in total$/m.exec(liveRun.stderr)?.[1]);
		t.true(gaps.length > 0, liveRun.stderr);
		t.is(gaps.reduce((sum, count) => sum + count, 0), total, 'the total adds up the gaps');
		t.notRegex(liveRun.stdout, /LOST/, 'the kernel\'s gap lines become the warnings');
		assertCallsAccounted(t, 'live', callNumbers(liveRun.stdout.split('\n')), total, calls);

		// Buffered: the buffer keeps the last calls; the per_cpu stats say how many went.
		const buffered = startTool(toolBin('uprobe'), ['--json', '-d', '2', probe], {FTRACE_TS_BUFFER_KB: '4'});
		await buffered.started;
		execFileSync(hot, [String(calls)]);
		const bufferedRun = await buffered.done;
		t.is(bufferedRun.code, 0, bufferedRun.stderr);
		const records = bufferedRun.stdout.trim().split('\n').map(line => JSON.parse(line) as {kind: string; text?: string; count?: number; cpu?: number; uncounted?: boolean});
		const lost = records.filter(record => record.kind === 'lost');
		t.true(lost.length > 0 && lost.every(record => Number.isInteger(record.count) && Number.isInteger(record.cpu)), JSON.stringify(lost));
		const lostCount = lost.reduce((sum, record) => sum + record.count!, 0);
		t.deepEqual(records.at(-1), {kind: 'lost-total', count: lostCount, uncounted: false});
		t.regex(bufferedRun.stderr, new RegExp(`^WARNING: ${lostCount} events lost in total$`, 'm'));
		assertCallsAccounted(t, 'buffered', callNumbers(records.filter(record => record.kind === 'line').map(record => record.text ?? '')), lostCount, calls);
		assertStateKept(t, before, [liveRun, bufferedRun]);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});
