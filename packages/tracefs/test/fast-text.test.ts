import {existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs';
import {tmpdir} from 'node:os';
import {join} from 'node:path';
import test, {type ExecutionContext} from 'ava';
import {
	FastTextDecoder, FormatCache, Instance, Tracefs, decodeAgain, decodeTraceText, decodeTraceTextBatches, readTraceTextFile, readTraceTextFileBatches, readTraceTextLines,
	type TraceRecord,
} from '../src/index.js';
import type {FieldLine} from '../src/fast-text.js';
import {gapLines} from '../src/gap-lines.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url).pathname;
const toolFixtures = new URL('../../../tools/test/fixtures/tools/', import.meta.url).pathname;
const samples = new URL('../../../tui/samples/', import.meta.url).pathname;
const examples = '/work/shared/anchors/perf-tools-examples/';

function formatsOf(kernel: string): FormatCache {
	const dir = `${fixtures}formats/${kernel}/`;
	return FormatCache.fromFormats(readdirSync(dir).filter(name => name.endsWith('.format')).map(name => ({
		system: name.split('.')[0]!,
		text: readFileSync(dir + name, 'utf8'),
	})));
}

/** The general reader's records, with replays' second chance for older formats. */
async function general(text: string, formats: FormatCache | undefined, retryFormats?: FormatCache): Promise<TraceRecord[]> {
	const out: TraceRecord[] = [];
	for await (const record of decodeTraceText(text, {formats})) {
		out.push(decodeAgain(record, retryFormats));
	}

	return out;
}

/** The batch reader's records, the text fed as bytes in chunks of `chunk` (odd sizes split lines and characters). */
async function batched(text: string, formats: FormatCache | undefined, retryFormats?: FormatCache, chunk = 1 << 20): Promise<TraceRecord[]> {
	const bytes = Buffer.from(text, 'utf8');
	const source = (async function * () {
		for (let at = 0; at < bytes.length; at += chunk) {
			yield bytes.subarray(at, at + chunk);
		}
	})();
	const out: TraceRecord[] = [];
	for await (const batch of decodeTraceTextBatches(source, {formats, retryFormats})) {
		out.push(...batch);
	}

	return out;
}

/** How many lines the fast path decodes itself (the rest go to the general reader). */
function fastShare(text: string, formats: FormatCache, retryFormats?: FormatCache): {fast: number; lines: number} {
	const decoder = new FastTextDecoder(formats, retryFormats);
	const lines = text.split('\n').filter(line => /^ *\S.*-\d+ .*: block_rq_\w+: /.test(line));
	return {fast: lines.filter(line => decoder.decodeLine(line)).length, lines: lines.length};
}

const query = {events: ['block_rq_issue', 'block_rq_complete'], numbers: ['dev', 'sector', 'nr_sector', 'bytes', 'errors'], strings: ['rwbs', 'comm']};

/** A queried event as the field reader gives it (or as one expects it from a record). */
interface FieldView {
	readonly event: string;
	readonly cpu: number;
	readonly pid: number;
	readonly seconds: number;
	readonly nanoseconds: number;
	readonly comm: string;
	readonly numbers: number[];
	readonly texts: Array<string | undefined>;
}

/** A general reader's record as the field reader gives a queried event. */
function viewOf(record: TraceRecord | undefined): FieldView | {readonly notAView: TraceRecord | undefined} {
	if (record?.kind !== 'event' || !record.decoded || !query.events.includes(record.event)) {
		return {notAView: record};
	}

	return {
		event: record.event,
		cpu: record.cpu,
		pid: record.pid,
		seconds: Number(record.timestampNs / 1_000_000_000n),
		nanoseconds: Number(record.timestampNs % 1_000_000_000n),
		comm: record.comm,
		numbers: query.numbers.map(name => (record.fields[name] === undefined ? Number.NaN : record.fields[name] as number)),
		texts: query.strings.map(name => record.fields[name] as string | undefined),
	};
}

/**
 * Field reader output against the general reader's records: item for
 * item, a view must be the record's values and a record the record itself
 * (stack traces aside: events read in place carry none). Returns how many
 * came as views.
 */
function assertFields(t: ExecutionContext, actual: ReadonlyArray<FieldView | TraceRecord>, records: readonly TraceRecord[], message?: string): number {
	const expected = records.filter(record => record.kind !== 'stack');
	t.deepEqual(actual, actual.map((item, index) => ('numbers' in item ? viewOf(expected[index]) : expected[index])), message);
	t.is(actual.length, expected.length, message);
	return actual.filter(item => 'numbers' in item).length;
}

/** A field sink for `query` that puts views of queried events and the records `keep` takes into `out`. */
function collect(out: Array<FieldView | TraceRecord>, keep: (record: TraceRecord) => boolean) {
	return {
		...query,
		event(line: FieldLine) {
			out.push({
				event: query.events[line.event]!, cpu: line.cpu, pid: line.pid, seconds: line.seconds, nanoseconds: line.nanoseconds, comm: line.comm(),
				numbers: [...line.numbers], texts: query.strings.map((_, index) => line.text(index)),
			});
		},
		record(record: TraceRecord) {
			if (keep(record)) {
				out.push(record);
			}
		},
	};
}

/** The field reader's output over the text fed as bytes in chunks of `chunk`: views of queried events, other records as they are. */
async function fielded(text: string, formats: FormatCache | undefined, retryFormats: FormatCache | undefined, chunk = 1 << 20): Promise<Array<FieldView | TraceRecord>> {
	const bytes = Buffer.from(text, 'utf8');
	const source = (async function * () {
		for (let at = 0; at < bytes.length; at += chunk) {
			yield bytes.subarray(at, at + chunk);
		}
	})();
	const out: Array<FieldView | TraceRecord> = [];
	const fields = collect(out, record => record.kind !== 'stack');
	// eslint-disable-next-line @typescript-eslint/no-unused-vars
	for await (const batch of decodeTraceTextBatches(source, {formats, retryFormats, fields})) {
		// The callbacks have it all.
	}

	return out;
}

/** What readTraceTextFileBatches gives `fields` for the file `path`, every record included, with these workers and segments. */
async function fieldedFile(path: string, formats: FormatCache | undefined, retryFormats: FormatCache | undefined, workers: number, segmentBytes?: number, signal?: AbortSignal): Promise<Array<FieldView | TraceRecord>> {
	const out: Array<FieldView | TraceRecord> = [];
	const fields = collect(out, () => true);
	// eslint-disable-next-line @typescript-eslint/no-unused-vars
	for await (const batch of readTraceTextFileBatches(path, {formats, retryFormats, fields, workers, segmentBytes, signal})) {
		// The callbacks have it all.
	}

	return out;
}

const read = (path: string): string => (existsSync(path) ? readFileSync(path, 'utf8') : '');
const block618 = formatsOf('6.18');
const block316 = formatsOf('3.16');

/** Lines the fast path must agree on, or leave to the general reader: odd comms, columns, clocks, and what is not an event. */
const oddLines = [
	'# tracer: nop',
	'#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION',
	'              dd-1000    [000] .....  1000.000002: block_rq_issue: 7,0 WS 8192 () 123456 + 16 be,0,4 [dd]',
	'     my prog - x-4242    [001] d..1.  1000.000010: block_rq_issue: 259,3 R 16384 () 123456789 + 32 none,0,0 [my prog - x]',
	'   dash-123-name-77     [001] ....   1000.000011: block_rq_issue: 7,0 R 4096 () 8 + 8 be,0,4 [dash-123-name]',
	'  -5-6     [001] ....   1000.000012: block_rq_issue: 7,0 R 4096 () 16 + 8 be,0,4 [-5]',
	'    with (paren)-9     [000] ....  1000.000013: block_rq_issue: 7,0 R 4096 () 24 + 8 be,0,4 [with (paren)]',
	'          <idle>-0       [001] d.h1.  1000.000020: block_rq_complete: 7,0 WS () 123456 + 16 be,0,4 [0]',
	'            bash-1977    (   1977) [000] .....  1000.000030: block_rq_issue: 7,0 W 0 () 1 + 8 rt,4,0 [bash]',
	'           <...>-1978    (-------) [000] .....  1000.000031: block_rq_issue: 7,0 W 0 () 2 + 8 idle,0,0 [<...>]',
	'              dd-1000    [000]  1000.000040: block_rq_issue: 7,0 W 4096 () 3 + 8 be,0,4 [dd]',
	'              dd-1000    [000] ....  1000.000050123: block_rq_issue: 7,0 W 4096 () 4 + 8 be,0,4 [dd]',
	'              dd-1000    [000] ....  12345678901: block_rq_issue: 7,0 W 4096 () 5 + 8 be,0,4 [dd]',
	'              dd-1000    [000] ....  1000.0000501234: block_rq_issue: 7,0 W 4096 () 6 + 8 be,0,4 [dd]',
	'              dd-1000    [000] ....  1000.000060: block_rq_issue: 7,0 W 4096 (20 00 00) 7 + 8 be,0,4 [dd]',
	'              dd-1000    [000] ....  1000.000061: block_rq_issue: 7,0 W 4096 () 18446744073709551615 + 8 be,0,4 [dd]',
	'              dd-1000    [000] ....  1000.000062: block_rq_issue: 7,0 W -1 () 9 + 8 be,0,4 [dd]',
	'              dd-1000    [000] ....  1000.000063: block_rq_issue: 7,0 W 4096 () 10 + 8 be,0,4 [d] d]',
	'              dd-1000    [000] ....  1000.000064: block_rq_issue: 7,0 W 4096 ) () 11 + 8 be,0,4 [dd]',
	'              dd-1000    [000] ....  1000.000065: block_rq_issue: 007,00 W 4096 () 12 + 8 be,0,4 [dd]',
	'              dd-1000    [000] ....  1000.000066: block_rq_issue: 7,0 W 4096 () 13 + 8 bogus,0,4 [dd]',
	'              dd-1000    [000] ....  1000.000067: block_rq_issue: 202,1 W 0 () 12862264 + 8 [dd]',
	'              dd-1000    [000] ....  1000.000068: block_rq_issue:7,0 W 4096 () 14 + 8 be,0,4 [dd]',
	'              dd-1000    [000] ....  1000.000069: block_rq_issue:  7,0 W 4096 () 15 + 8 be,0,4 [dd]',
	'              dd-1000    [000] ....  1000.000070:  block_rq_issue: 7,0 W 4096 () 16 + 8 be,0,4 [dd]',
	'           möbius-31     [000] ....  1000.000071: block_rq_issue: 7,0 W 4096 () 17 + 8 be,0,4 [möbius]',
	'   tab\there-32     [000] ....  1000.000072: block_rq_issue: 7,0 W 4096 () 18 + 8 be,0,4 [tab\there]',
	'   line\u2028sep-33     [000] ....  1000.000073: block_rq_issue: 7,0 W 4096 () 19 + 8 be,0,4 [x]',
	'     kworker/0:1-12      [000] d..2.  1000.000080: sched_switch: prev_comm=kworker/0:1 x prev_pid=12 prev_prio=120 prev_state=R+ ==> next_comm=swapper/0 next_pid=0 next_prio=120',
	'              sh-55      [000] .....  1000.000090: sched_process_exec: filename=/usr/bin/my tool pid=55 old_pid=55',
	'              sh-55      [000] .....  1000.000091: sys_openat(dfd: ffffff9c, filename: 7ffd1234, flags: 0, mode: 0)',
	'              sh-55      [000] .....  1000.000092: sys_openat -> 0x3',
	'              sh-55      [000] .....  1000.000093: unknown_event: a=1 b=two',
	'              sh-55      [000] .....  1000.000094: <stack trace>',
	' => vfs_write',
	' => ksys_write',
	'              dd-1000    [000] .....  1000.000095: block_rq_issue: 7,0 W 4096 () 20 + 8 be,0,4 [dd]',
	'              dd-1000    [000] .....  1000.000096: <user stack trace>',
	' => <00007f0000001000>',
	'CPU:1 [LOST 42 EVENTS]',
	'##### CPU 1 buffer started ####',
	'              dd-1000    [000] .....  1000.000097: block_rq_complete: 7,0 W () 20 + 8 be,0,4 [0]',
	'  0)               |  vfs_write() {',
	'',
	'              dd-1000    [000] .....  1000.000098: block_rq_issue: 7,0 W 4096 () 21 + 8 be,0,4 [dd]\r',
	'              dd-1000    [000] .....  1000.000099: block_rq_issue: 7,0 W 4096 () 22 + 8 be,0,4 [last line, no newline]',
].join('\n');

const cases: Array<[string, () => string, FormatCache | undefined, FormatCache | undefined]> = [
	['recorded 6.18 block trace (fixtures/readers)', () => read(`${fixtures}readers/block-6.18.trace`), block618, undefined],
	['3.16 replay fixture with 3.16 formats', () => read(`${toolFixtures}iosnoop-3.16.trace`), block316, undefined],
	['3.16 replay fixture with 6.18 formats, 3.16 retried', () => read(`${toolFixtures}iosnoop-3.16.trace`), block618, block316],
	['tui samples (6.18)', () => ['iosnoop', 'sched', 'opensnoop', 'execsnoop', 'funcgraph'].map(name => read(`${samples}${name}.trace`)).join('\n'), block618, undefined],
	['perf-tools example files', () => readdirSync(examples).map(name => read(examples + name)).join('\n'), block618, block316],
	['odd lines, 6.18 formats, 3.16 retried', () => oddLines, block618, block316],
	['odd lines, 3.16 formats', () => oddLines, block316, undefined],
	['odd lines, no formats', () => oddLines, undefined, undefined],
	['odd lines, 3.16 retried after no formats', () => oddLines, undefined, block316],
];

for (const [title, text, formats, retry] of cases) {
	test(`batches give the general reader's records: ${title}`, async t => {
		const input = text();
		t.true(input.length > 0, 'fixture present');
		const expected = await general(input, formats, retry);
		t.true(expected.length > 0);
		t.deepEqual(await batched(input, formats, retry), expected);
		// Chunks that split lines and UTF-8 characters.
		t.deepEqual(await batched(input, formats, retry, 7), expected);
		t.deepEqual(await batched(input, formats, retry, 4093), expected);
	});
}

for (const [title, text, formats, retry] of cases) {
	test(`fields: queried events in place give the general reader's values, other records as they are: ${title}`, async t => {
		const input = text();
		const expected = await general(input, formats, retry);
		const views = assertFields(t, await fielded(input, formats, retry), expected);
		// Chunks that split lines and UTF-8 characters.
		t.is(assertFields(t, await fielded(input, formats, retry, 7), expected, 'chunks of 7'), views);
		t.is(assertFields(t, await fielded(input, formats, retry, 4093), expected, 'chunks of 4093'), views);
		if (title.includes('fixture') || title.includes('recorded')) {
			const queried = expected.filter(record => record.kind === 'event' && record.decoded && query.events.includes(record.event)).length;
			t.true(views >= queried - 1, `${views} of ${queried} queried events read in place`);
		}
	});
}

for (const [title, text, formats, retry] of cases) {
	test(`fields from worker threads: what one thread gives, for any segment size: ${title}`, async t => {
		const dir = mkdtempSync(join(tmpdir(), 'fast-text-'));
		try {
			const path = join(dir, 'trace');
			writeFileSync(path, text());
			const expected = await fieldedFile(path, formats, retry, 0);
			t.true(expected.length > 0);
			// Segments smaller than a line, a few lines, many; one worker and several.
			for (const [workers, segment] of [[2, 1], [3, 97], [2, 4093], [1, 1 << 22]] as const) {
				t.deepEqual(await fieldedFile(path, formats, retry, workers, segment), expected, `${workers} workers, segments of ${segment}`);
			}
		} finally {
			rmSync(dir, {recursive: true, force: true});
		}
	});
}

test('fields from worker threads with formats loaded from the live kernel, as one thread reads them', async t => {
	const tracefs = await Tracefs.find();
	const instance = Instance.top(tracefs);
	const path = `${fixtures}readers/block-6.18.trace`;
	const expected = await fieldedFile(path, FormatCache.forInstance(instance), block316, 0);
	t.is(expected.filter(item => 'numbers' in item).length, 8, 'every queried event read in place');
	t.deepEqual(await fieldedFile(path, FormatCache.forInstance(instance), block316, 2, 512), expected);
});

test('fields from worker threads: an abort ends the read, and a missing file is reported', async t => {
	const dir = mkdtempSync(join(tmpdir(), 'fast-text-'));
	try {
		const path = join(dir, 'trace');
		writeFileSync(path, read(`${toolFixtures}iosnoop-3.16.trace`).repeat(20));
		const all = await fieldedFile(path, block316, undefined, 2, 256);
		const controller = new AbortController();
		const out: unknown[] = [];
		const fields = {...query, event() {
			out.push(1);
			if (out.length === 5) {
				controller.abort();
			}
		}, record() {}};
		// eslint-disable-next-line @typescript-eslint/no-unused-vars
		for await (const batch of readTraceTextFileBatches(path, {formats: block316, fields, workers: 2, segmentBytes: 256, signal: controller.signal})) {
			// The callbacks have it.
		}

		t.true(out.length >= 5 && out.length < all.length, `${out.length} of ${all.length} read before the abort took effect`);
		await t.throwsAsync(fieldedFile(join(dir, 'missing'), block316, undefined, 2, 256), {message: /cannot read trace file/});
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

test('fields, one thread: a file of several read chunks (each read ahead into the other buffer) reads as the text in memory, and an abort stops it', async t => {
	const dir = mkdtempSync(join(tmpdir(), 'fast-text-'));
	try {
		const path = join(dir, 'trace');
		const text = read(`${toolFixtures}iosnoop-3.16.trace`);
		// Over three 1 MiB reads, with lines cut at the chunk ends.
		const repeats = Math.ceil((3.5 * (1 << 20)) / text.length);
		writeFileSync(path, text.repeat(repeats));
		const fromFile = await fieldedFile(path, block316, undefined, 0);
		const inMemory = await fielded(text.repeat(repeats), block316, undefined);
		t.true(fromFile.length > 1000);
		t.deepEqual(fromFile, inMemory);
		const controller = new AbortController();
		let seen = 0;
		const fields = {...query, event() {
			if (++seen === 5) {
				controller.abort();
			}
		}, record() {}};
		// eslint-disable-next-line @typescript-eslint/no-unused-vars
		for await (const batch of readTraceTextFileBatches(path, {formats: block316, fields, workers: 0, signal: controller.signal})) {
			// The callbacks have it.
		}

		t.true(seen >= 5 && seen < fromFile.length, `${seen} of ${fromFile.length} read before the abort took effect`);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

test('fields, one thread: ranges of a file read each line once, in order, wherever they are cut', async t => {
	const dir = mkdtempSync(join(tmpdir(), 'fast-text-'));
	try {
		const path = join(dir, 'trace');
		const text = read(`${toolFixtures}iosnoop-3.16.trace`).repeat(30);
		writeFileSync(path, text);
		const whole = await fieldedFile(path, block316, undefined, 0);
		t.true(whole.length > 100);
		for (const cuts of [[0, text.length], [0, 1, 2, 500, 501, 4096, text.length], [0, 37, 1000, 7777, 7778, 20_000, text.length + 10]]) {
			const pieces: Array<FieldView | TraceRecord> = [];
			for (let i = 0; i + 1 < cuts.length; i++) {
				const fields = collect(pieces, () => true);
				// eslint-disable-next-line no-await-in-loop, @typescript-eslint/no-unused-vars
				for await (const batch of readTraceTextFileBatches(path, {formats: block316, fields, range: {from: cuts[i]!, to: cuts[i + 1]!}})) {
					// The callbacks have it.
				}
			}

			t.deepEqual(pieces, whole, `cut at ${cuts.join(', ')}`);
		}
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

test('gapLinesIn counts every lost-events and buffer-started line, at least (also on a worker thread)', async t => {
	const dir = mkdtempSync(join(tmpdir(), 'fast-text-'));
	try {
		const path = join(dir, 'trace');
		writeFileSync(path, oddLines);
		const lost = (await general(oddLines, block618)).filter(record => record.kind === 'lost').length;
		t.is(lost, 2);
		t.is(await FastTextDecoder.gapLinesIn(path), lost);
		writeFileSync(path, `##### CPU 0 buffer started ####\n${oddLines}\nCPU:0 [LOST EVENTS]`);
		t.is(await FastTextDecoder.gapLinesIn(path), lost + 2, 'first and last lines');
		t.is(await FastTextDecoder.gapLinesIn(path, {thread: true}), lost + 2, 'on a worker thread');
		await t.throwsAsync(FastTextDecoder.gapLinesIn(join(dir, 'missing')), {message: /cannot read trace file/});
		await t.throwsAsync(FastTextDecoder.gapLinesIn(join(dir, 'missing'), {thread: true}), {message: /cannot read trace file.*no such file/i});
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

test('gapLines counts the lines that start "CPU:" or "#####", and only those, wherever its reads cut them', async t => {
	let seed = 11;
	const random = (n: number): number => {
		seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
		return seed % n;
	};

	const kinds = ['CPU:1 [LOST 3 EVENTS]', '##### CPU 2 buffer started ####', 'CPU:', '#####', ' CPU:0 [LOST 1 EVENTS]', 'xCPU:', '####', '#### CPU', 'CPU 1', '  dd-1 [000] .... 1.000001: block_rq_issue: 7,0 W 0 () 1 + 8 [CPU:]', '', '#', 'C', '#####CPU:'];
	const lines = Array.from({length: 3000}, () => kinds[random(kinds.length)]!);
	const expected = lines.filter(line => line.startsWith('CPU:') || line.startsWith('#####')).length;
	const dir = mkdtempSync(join(tmpdir(), 'gap-lines-'));
	try {
		const path = join(dir, 'trace');
		for (const text of [lines.join('\n'), `${lines.join('\n')}\n`]) {
			writeFileSync(path, text);
			for (const chunk of [1, 6, 7, 8, 13, 64, 4096, undefined]) {
				// eslint-disable-next-line no-await-in-loop
				t.is(await gapLines(path, chunk), expected, `reads of ${chunk ?? 'the default'} bytes`);
			}
		}

		t.true(expected > 500);
		writeFileSync(path, '#####');
		t.is(await gapLines(path, 6), 1);
		writeFileSync(path, 'CPU:');
		t.is(await gapLines(path), 1);
		writeFileSync(path, '');
		t.is(await gapLines(path), 0);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

test('the fast path decodes the lines it is for, and leaves the rest to the general reader', t => {
	const replay = read(`${toolFixtures}iosnoop-3.16.trace`);
	const legacy = fastShare(replay, block618, block316);
	t.is(legacy.fast, legacy.lines, '3.x lines decode fast, after the 6.x format said no');
	const recorded = fastShare(read(`${fixtures}readers/block-6.18.trace`), block618);
	t.true(recorded.fast >= recorded.lines * 0.9, `${recorded.fast} of ${recorded.lines}`);

	const decoder = new FastTextDecoder(block618);
	const odd = (comm: string): string | undefined => decoder.decodeLine(`  ${comm}-4242    [001] d..1.  1000.000010: block_rq_issue: 7,0 R 4096 () 8 + 8 be,0,4 [${comm}]`)?.comm;
	t.is(odd('my prog - x'), 'my prog - x');
	t.is(odd('dash-123-name'), 'dash-123-name');
	t.is(odd('-5'), '-5');
	// Other whitespace and line separators: the general reader's.
	t.is(decoder.decodeLine(oddLines.split('\n').find(line => line.includes('\u2028'))!), undefined);
	t.is(decoder.decodeLine('              sh-55      [000] .....  1000.000091: sys_openat(dfd: ffffff9c, filename: 7ffd1234, flags: 0, mode: 0)'), undefined);
	t.is(decoder.decodeLine('              dd-1000    [000] ....  12345678901: block_rq_issue: 7,0 W 4096 () 5 + 8 be,0,4 [dd]'), undefined, 'counter clocks');
});

test('compiled scans: a separator that comes again inside a string is passed over, in place, as the regex passes it over', async t => {
	// Each string ends at the first occurrence of its separator after which
	// the rest matches: here, never the first occurrence.
	const lines = [
		['              dd-1000    [000] ....  1000.000100: block_rq_issue: 7,0 W 4096 (x) y) 23 + 8 be,0,4 [dd]', 'W', 23],
		['              dd-1000    [000] ....  1000.000101: block_rq_issue: 7,0 W S 4096 () 24 + 8 be,0,4 [dd]', 'W S', 24],
		['              dd-1000    [000] ....  1000.000102: block_rq_issue: 7,0 W 4096 () 25 + 8 [a] b]', 'W', 25],
		['              dd-1000    [000] ....  1000.000103: block_rq_issue: 7,0 R M 4096 (1) 2) 3) 26 + 8 [dd]', 'R M', 26],
		['              dd-1000    [000] ....  1000.000104: block_rq_complete: 7,0 W S () 27 + 8 be,0,4 [0]', 'W S', 27],
		['              dd-1000    [000] ....  1000.000105: block_rq_issue: 7,0 W 4096 () 28 + 8 be,x,4 [y] be,0,4 [dd]', 'W', 28],
	] as const;
	const text = lines.map(([line]) => line).join('\n');
	const expected = await general(text, block618, block316);
	t.deepEqual(await batched(text, block618, block316), expected);
	assertFields(t, await fielded(text, block618, block316), expected);
	const decoder = new FastTextDecoder(block618, block316, query);
	decoder.refresh();
	// Events are compiled into the byte reader once the text path has met them.
	decoder.decodeLine('              dd-1000    [000] ....  1000.000090: block_rq_issue: 7,0 W 4096 () 22 + 8 be,0,4 [dd]');
	decoder.decodeLine('              dd-1000    [000] ....  1000.000091: block_rq_complete: 7,0 W () 22 + 8 be,0,4 [0]');
	const bytes = Buffer.from(text);
	let start = 0;
	for (const [line, rwbs, sector] of lines) {
		const end = start + line.length;
		const fields = decoder.readBytes(bytes, start, end);
		t.truthy(fields, `read in place: ${line}`);
		t.is(fields?.text(0), rwbs, line);
		t.is(fields?.numbers[1], sector, line);
		const record = expected.find(record => record.kind === 'event' && record.fields['sector'] === sector);
		t.is(record?.kind === 'event' ? record.fields['rwbs'] : undefined, rwbs, line);
		start = end + 1;
	}
});

test('compiled scans: integers end at the line\'s end whatever bytes follow it; signs and long values are read exactly', t => {
	const exec = {events: ['sched_process_exec'], numbers: ['pid', 'old_pid'], strings: ['filename']};
	const decoder = new FastTextDecoder(block618, undefined, exec);
	decoder.refresh();
	decoder.decodeLine('              sh-55      [000] .....  1000.000090: sched_process_exec: filename=/bin/true pid=55 old_pid=55');
	const prefix = '              sh-56      [000] .....  1000.000091: sched_process_exec: filename=/bin/a b pid=56 old_pid=';
	// The line is the range up to `end`; what follows is another line's, or none.
	for (const [after, value] of [['', 57], ['\n', 57], ['123', 57], ['   9', 57], ['\u0000', 57]] as const) {
		const bytes = Buffer.from(`${prefix}57${after}`);
		const end = prefix.length + 2;
		const fields = decoder.readBytes(bytes, 0, end);
		t.truthy(fields, JSON.stringify(after));
		t.is(fields?.numbers[1], value, JSON.stringify(after));
		t.is(fields?.numbers[0], 56);
		t.is(fields?.text(0), '/bin/a b');
	}

	// A number cut by `end` is the part before it.
	const cut = Buffer.from(`${prefix}5799`);
	t.is(decoder.readBytes(cut, 0, prefix.length + 2)?.numbers[1], 57);
	// A line cut anywhere (digits and spaces after the cut) reads as its text up to the cut, or is left to the text path.
	const whole = '              sh-56  (     56) [001] d..1.  1000.000091: sched_process_exec: filename=/bin/a b pid=56 old_pid=57';
	const long = Buffer.from(`${whole}123 456`);
	let read = 0;
	for (let end = 1; end <= whole.length; end++) {
		const fields = decoder.readBytes(long, 0, end);
		if (fields) {
			read++;
			const record = decoder.decodeLine(whole.slice(0, end));
			t.truthy(record, `cut at ${end}`);
			t.deepEqual([fields.pid, fields.cpu, fields.seconds, fields.nanoseconds, fields.numbers[0], fields.numbers[1], fields.text(0)],
				[record?.pid, record?.cpu, Number((record?.timestampNs ?? 0n) / 1_000_000_000n), Number((record?.timestampNs ?? 0n) % 1_000_000_000n), record?.fields['pid'], record?.fields['old_pid'], record?.fields['filename']], `cut at ${end}`);
		}
	}

	// Cut in old_pid's digits: 2 ways.
	t.is(read, 2);
	// Signed and long values: read as the text path reads them (an int wraps), or left to it.
	for (const [text, value] of [['-1', -1], ['2147483647', 2_147_483_647], ['-2147483648', -2_147_483_648], ['4294967295', -1], ['123456789012345678', undefined]] as const) {
		const bytes = Buffer.from(`${prefix}${text}`);
		const general = decoder.decodeLine(bytes.toString())?.fields['old_pid'];
		t.true(typeof general === 'number', text);
		if (value !== undefined) {
			t.is(general, value, text);
		}

		const fields = decoder.readBytes(bytes, 0, bytes.length);
		t.true(fields === undefined || fields.numbers[1] === general, `${text}: ${fields?.numbers[1]} against ${general}`);
	}
});

test('compiled scans: dev printed as MAJOR,MINOR is rebuilt as the text path rebuilds it, at and past the bits\' edges', t => {
	const decoder = new FastTextDecoder(block618, block316, query);
	decoder.refresh();
	decoder.decodeLine('              dd-1000    [000] ....  1000.000090: block_rq_issue: 7,0 W 4096 () 22 + 8 be,0,4 [dd]');
	let direct = 0;
	for (const dev of ['0,0', '7,0', '259,3', '4095,1048575', '4096,0', '4095,1048576', '7,1048576', '1,99999999', '99999,1', '007,01', '4294967295,1048575', '-1,0', '7,-1']) {
		const line = `              dd-1000    [000] ....  1000.000091: block_rq_issue: ${dev} W 4096 () 23 + 8 be,0,4 [dd]`;
		const expected = decoder.decodeLine(line)?.fields['dev'];
		const bytes = Buffer.from(line);
		const fields = decoder.readBytes(bytes, 0, bytes.length);
		if (fields) {
			t.is(fields.numbers[0], expected as number, dev);
			direct++;
		} else {
			// Only what the text path cannot rebuild either (it keeps the text).
			t.is(expected, dev, `${dev} left to the text path`);
		}
	}

	t.is(direct, 9, 'read in place');
	const [major, minor] = [4095, 1_048_575];
	t.is(decoder.decodeLine(`              dd-1000    [000] ....  1000.000092: block_rq_issue: ${major},${minor} W 4096 () 24 + 8 be,0,4 [dd]`)?.fields['dev'], (major * (2 ** 20)) + minor);
});

test('generated lines: random comms (spaces, dashes, digits, brackets) decode as the general reader does', async t => {
	let seed = 7;
	const random = (n: number): number => {
		seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
		return seed % n;
	};

	const alphabet = 'ab -0123456789[]()<>.:,+=_/x';
	const lines: string[] = [];
	for (let i = 0; i < 3000; i++) {
		let comm = '';
		const length = 1 + random(15);
		for (let j = 0; j < length; j++) {
			comm += alphabet[random(alphabet.length)];
		}

		const pid = random(100_000);
		const flags = ['d..1.', '....', 'dNh2.', ''][random(4)]!;
		const time = `${1000 + random(100_000)}.${String(random(1_000_000)).padStart(6, '0')}`;
		const prefix = `${`${comm}-${pid}`.padStart(16)} ${random(2) === 0 ? '' : `(${String(pid).padStart(7)}) `}[00${random(4)}] ${flags}${flags ? ' ' : ''}${time}:`;
		lines.push(random(2) === 0
			? `${prefix} block_rq_issue: ${random(300)},${random(20)} ${['R', 'WS', 'FWFS'][random(3)]!} ${random(70_000)} (${random(3) === 0 ? comm : ''}) ${random(1e9)} + ${random(256)} ${['be', 'none', 'rt'][random(3)]!},${random(8)},${random(8)} [${comm}]`
			: `${prefix} block_rq_issue: ${random(300)},${random(20)} W ${random(70_000)} () ${random(1e9)} + ${random(256)} [${comm}]`);
	}

	const text = lines.join('\n');
	const expected = await general(text, block618, block316);
	t.deepEqual(await batched(text, block618, block316), expected);
	const views = assertFields(t, await fielded(text, block618, block316), expected);
	t.true(views >= lines.length * 0.9, `${views} of ${lines.length} lines read in place`);
	t.deepEqual(await batched(text, block316), await general(text, block316));
	const share = fastShare(text, block618, block316);
	t.true(share.fast >= share.lines * 0.9, `${share.fast} of ${share.lines} lines decoded fast`);
});

test('file readers report their progress: rising, up to the file\'s size (or the range\'s), with and without fields, on one thread and on workers', async t => {
	const dir = mkdtempSync(join(tmpdir(), 'fast-text-progress-'));
	try {
		// Several read chunks (1 MiB) and worker segments.
		const path = join(dir, 'trace');
		const lines = readFileSync(`${toolFixtures}iosnoop-3.16.trace`, 'utf8').split('\n').filter(line => line.includes(': block_rq_'));
		writeFileSync(path, `${Array.from({length: Math.ceil((5 << 20) / lines.join('\n').length)}, () => lines.join('\n')).join('\n')}\n`);
		const size = readFileSync(path).length;
		const check = (progress: Array<[number, number]>, total: number, label: string): void => {
			t.true(progress.length >= 3, `${label}: ${progress.length} reports`);
			t.true(progress.every(([done, of], i) => of === total && done <= total && (i === 0 || done >= progress[i - 1]![0])), label);
			t.is(progress.at(-1)![0], total, label);
		};

		const sink = {...query, event() {}, record() {}};
		const read = async (options: Parameters<typeof readTraceTextFileBatches>[1]): Promise<Array<[number, number]>> => {
			const progress: Array<[number, number]> = [];
			for await (const _ of readTraceTextFileBatches(path, {formats: block316, ...options, progress: (done, total) => progress.push([done, total])})) {
				// The reports are checked.
			}

			return progress;
		};

		check(await read({}), size, 'records, one thread');
		check(await read({fields: sink, workers: 0}), size, 'fields, one thread');
		check(await read({fields: sink, workers: 2, segmentBytes: 1 << 20}), size, 'fields, workers');
		check(await read({fields: sink, range: {from: 1000, to: 4 << 20}}), (4 << 20) - 1000, 'fields, a range');
		const progress: Array<[number, number]> = [];
		for await (const _ of readTraceTextFile(path, {formats: block316, progress: (done, total) => progress.push([done, total])})) {
			// The reports are checked.
		}

		check(progress, size, 'readTraceTextFile');
		const lineProgress: Array<[number, number]> = [];
		let count = 0;
		for await (const line of readTraceTextLines(path, {progress: (done, total) => lineProgress.push([done, total])})) {
			count += line === '' ? 0 : 1;
		}

		check(lineProgress, size, 'readTraceTextLines');
		t.is(count, readFileSync(path, 'utf8').split('\n').filter(line => line !== '').length);
	} finally {
		rmSync(dir, {recursive: true, force: true});
	}
});

test('readTraceTextFileBatches reads a file as readTraceTextFile does, and reports a missing one', async t => {
	const path = `${toolFixtures}iosnoop-3.16.trace`;
	const expected: TraceRecord[] = [];
	for await (const record of readTraceTextFile(path, {formats: block316})) {
		expected.push(record);
	}

	const got: TraceRecord[] = [];
	for await (const batch of readTraceTextFileBatches(path, {formats: block316})) {
		got.push(...batch);
	}

	t.deepEqual(got, expected);
	await t.throwsAsync(async () => {
		for await (const batch of readTraceTextFileBatches('/nonexistent/trace')) {
			t.fail(String(batch.length));
		}
	}, {message: /cannot read trace file/});
});

test('refresh() keeps the events the byte reader knows while no format is added to either cache, and forgets them once one is', t => {
	const issue316 = '              dd-1000    [000] ....  1000.000090: block_rq_issue: 7,0 W 4096 () 22 + 8 [dd]';
	const issue618 = '              dd-1000    [000] ....  1000.000091: block_rq_issue: 7,0 W 4096 () 23 + 8 be,0,4 [dd]';
	// Only the 3.16 formats at first.
	const formats = FormatCache.fromFormats(block316.formats());
	const decoder = new FastTextDecoder(formats, undefined, query);
	decoder.refresh();
	t.is(decoder.readBytes(Buffer.from(issue316), 0, issue316.length), undefined, 'not met yet');
	t.truthy(decoder.decodeLine(issue316));
	t.is(decoder.readBytes(Buffer.from(issue316), 0, issue316.length)?.numbers[1], 22);
	for (let chunk = 0; chunk < 3; chunk++) {
		decoder.refresh();
		t.is(decoder.readBytes(Buffer.from(issue316), 0, issue316.length)?.numbers[1], 22, `chunk ${chunk}`);
	}

	// A 6.18 line does not fit the 3.16 format.
	t.is(decoder.readBytes(Buffer.from(issue618), 0, issue618.length), undefined);
	const gone = decoder.decodeLine(issue618);
	t.false(gone?.kind === 'event' && gone.fields['sector'] === 23);
	// The 6.18 format comes: seen after the next refresh.
	formats.add(block618.byName('block_rq_issue')!);
	decoder.refresh();
	t.is(decoder.readBytes(Buffer.from(issue618), 0, issue618.length), undefined, 'forgotten until met again');
	const record = decoder.decodeLine(issue618);
	t.is(record?.kind === 'event' ? record.fields['sector'] : undefined, 23);
	t.is(decoder.readBytes(Buffer.from(issue618), 0, issue618.length)?.numbers[1], 23);
	decoder.refresh();
	t.is(decoder.readBytes(Buffer.from(issue618), 0, issue618.length)?.numbers[1], 23);
});
