import {readFileSync, rmSync} from 'node:fs';
import {tmpdir} from 'node:os';
import test, {type ExecutionContext} from 'ava';
import {
	CaptureWriter, FormatCache, PageBuilder, checkHeaderEvent, decodePage, encodeRecord, mergeByTimestamp, parseHeaderPage,
	readTraceRaw, taskNames, compileRecordDecoder, type CaptureHeader, type RawRecord, type TraceEvent,
} from '../src/index.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url).pathname;
const dir618 = `${fixtures}formats/6.18/`;
const headerPage = readFileSync(`${dir618}header_page`, 'utf8');
const headerEvent = readFileSync(`${dir618}header_event`, 'utf8');
const layout = parseHeaderPage(headerPage, 4096);
const formatText = (name: string): {system: string; text: string} => ({system: name.split('.')[0]!, text: readFileSync(`${dir618}${name}.format`, 'utf8')});
const formatTexts = [formatText('block.block_rq_issue'), formatText('sched.sched_process_exec'), formatText('syscalls.sys_exit_openat')];
const formats = FormatCache.fromFormats(formatTexts);
const issue = formats.byName('block_rq_issue')!;
const exec = formats.byName('sched_process_exec')!;
const exit = formats.byName('sys_exit_openat')!;
const tasks = taskNames('100 dd\n200 my prog-x\n');
const decoderOf = (id: number) => {
	const format = formats.byId(id);
	return format ? compileRecordDecoder(format) : undefined;
};

test('header_page and header_event of this kernel parse', t => {
	t.like(layout, {pageSize: 4096, timestampOffset: 0, commitOffset: 8, commitSize: 8, dataOffset: 16});
	t.notThrows(() => {
		checkHeaderEvent(headerEvent);
	});
	t.throws(() => {
		checkHeaderEvent(headerEvent.replace('27 bits', '28 bits'));
	});
});

test('page round trip: deltas, time extends, big records, data_loc strings, signed 64-bit, missed counts', t => {
	const builder = new PageBuilder(layout);
	const base = 5_000_000_000_000n;
	t.true(builder.add(base, encodeRecord(issue, 100, {dev: (7 << 20) | 3, sector: 1600, nr_sector: 16, bytes: 8192, ioprio: 16_388, rwbs: 'WS', comm: 'dd', cmd: ''})));
	// 2^27 ns later needs a time extend.
	t.true(builder.add(base + 200_000_000n, encodeRecord(exec, 200, {filename: '/usr/bin/a very long path name that makes the record bigger than 112 bytes/x/y/z', pid: 200, old_pid: 200})));
	t.true(builder.add(base + 200_000_100n, encodeRecord(exit, 200, {__syscall_nr: 257, ret: -2})));
	const page = builder.finish(7);
	const records = decodePage(page, 3, {layout, decoderOf, tasks});
	t.like(records[0], {kind: 'lost', cpu: 3, count: 7, source: 'page', timestampNs: base});
	const [a, b, c] = records.slice(1) as TraceEvent[];
	t.like(a, {event: 'block_rq_issue', system: 'block', cpu: 3, pid: 100, comm: 'dd', timestampNs: base, fields: {dev: (7 << 20) | 3, sector: 1600, nr_sector: 16, bytes: 8192, ioprio: 16_388, rwbs: 'WS', comm: 'dd', cmd: ''}});
	t.like(b, {event: 'sched_process_exec', comm: 'my prog-x', timestampNs: base + 200_000_000n, fields: {pid: 200, old_pid: 200}});
	t.true((b!.fields['filename'] as string).endsWith('/x/y/z'));
	t.like(c, {event: 'sys_exit_openat', timestampNs: base + 200_000_100n, fields: {ret: -2, __syscall_nr: 257}});
	t.is(a!.timestamp, 5000);
});

test('pages flagged with missed events but no stored count report an unknown count', t => {
	const builder = new PageBuilder(layout);
	builder.add(1000n, encodeRecord(exit, 1, {ret: 3}));
	const records = decodePage(builder.finish('uncounted'), 0, {layout, decoderOf, tasks});
	t.like(records[0], {kind: 'lost', count: undefined});
	t.like(records[1], {kind: 'event', comm: '<...>', fields: {ret: 3}});
});

test('unknown ids are yielded, not dropped', t => {
	const builder = new PageBuilder(layout);
	const payload = encodeRecord(exit, 1, {ret: 3});
	payload.writeUInt16LE(9999, 0);
	builder.add(1000n, payload);
	t.like(decodePage(builder.finish(), 0, {layout, decoderOf, tasks})[0], {kind: 'event', event: '#9999', decoded: false});
});

test('mergeByTimestamp interleaves CPUs in time order', t => {
	const at = (cpu: number, ns: bigint): RawRecord => ({kind: 'lost', cpu, count: 1, source: 'page', timestampNs: ns});
	const merged = mergeByTimestamp([[at(0, 1n), at(0, 5n), at(0, 9n)], [at(1, 2n), at(1, 3n), at(1, 10n)], []]);
	t.deepEqual(merged.map(r => r.kind === 'lost' ? r.timestampNs : 0n), [1n, 2n, 3n, 5n, 9n, 10n]);
});

/** A capture file of CPUs 0 and 1 being written (removed after the test), with pid 100 named dd. */
async function newCapture(t: ExecutionContext, name: string): Promise<{path: string; writer: CaptureWriter}> {
	const path = `${tmpdir()}/ftrace-ts-test-${name}-${process.pid}.ftcap`;
	t.teardown(() => {
		rmSync(path, {force: true});
	});
	const header: CaptureHeader = {
		format: 'ftrace-ts capture', version: 1, pageSize: 4096, littleEndian: true, headerPage, headerEvent,
		formats: formatTexts, cpus: [0, 1], cmdlines: '100 dd\n', tgids: '', recordedAt: new Date().toISOString(),
	};
	return {path, writer: await CaptureWriter.create(path, header)};
}

test('capture files: written pages read back merged across CPUs, with trailer comms and stats losses', async t => {
	const {path, writer} = await newCapture(t, 'capture');
	let count = 0;
	for (let round = 0; round < 3; round++) {
		for (const cpu of [0, 1]) {
			const builder = new PageBuilder(layout);
			for (let i = 0; i < 50; i++) {
				const ns = BigInt((round * 1_000_000) + (i * 1000) + (cpu * 500));
				if (!builder.add(ns, encodeRecord(issue, cpu === 0 ? 100 : 300, {sector: count++, nr_sector: 8, rwbs: 'R', comm: 'x'}))) {
					break;
				}
			}

			// eslint-disable-next-line no-await-in-loop
			await writer.writePage(cpu, builder.finish());
		}
	}

	const stats = (overrun: number) => [{cpu: 1, entries: 0, overrun, commitOverrun: 0, bytes: 0, dropped: 0, read: 0}];
	await writer.close({cmdlines: '300 late-comer\n', statsBefore: stats(1), statsAfter: stats(4)});

	const records: RawRecord[] = [];
	for await (const record of readTraceRaw(path)) {
		records.push(record);
	}

	const events = records.filter((r): r is TraceEvent => r.kind === 'event');
	t.is(events.length, count);
	const times = events.map(e => e.timestampNs);
	t.deepEqual(times, [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
	t.is(events.find(e => e.cpu === 1)!.comm, 'late-comer');
	t.is(events.find(e => e.cpu === 0)!.comm, 'dd');
	t.deepEqual(records.at(-1), {kind: 'lost', cpu: 1, count: 3, source: 'overrun'});
});

test('capture files: a loss counted in a page\'s flag is not counted again from the stats', async t => {
	const {path, writer} = await newCapture(t, 'capture-inband');
	for (const [cpu, missed] of [[0, 40], [1, 'uncounted']] as const) {
		const builder = new PageBuilder(layout);
		builder.add(BigInt(1000 + cpu), encodeRecord(issue, 100, {sector: cpu, nr_sector: 8, rwbs: 'R', comm: 'dd'}));
		// eslint-disable-next-line no-await-in-loop
		await writer.writePage(cpu, builder.finish(missed));
	}

	// The kernel's overrun grew by 40 on CPU 0 (the page said so) and 7 more
	// after the last page read; on CPU 1 by 5, which the page did not count.
	const stats = (cpu: number, overrun: number) => ({cpu, entries: 0, overrun, commitOverrun: 0, bytes: 0, dropped: 0, read: 0});
	await writer.close({cmdlines: '', statsBefore: [stats(0, 10), stats(1, 0)], statsAfter: [stats(0, 57), stats(1, 5)]});
	const lost = [];
	for await (const record of readTraceRaw(path)) {
		if (record.kind === 'lost') {
			lost.push({cpu: record.cpu, count: record.count, source: record.source});
		}
	}

	t.deepEqual(lost, [
		{cpu: 0, count: 40, source: 'page'},
		{cpu: 1, count: undefined, source: 'page'},
		{cpu: 0, count: 7, source: 'overrun'},
		{cpu: 1, count: 5, source: 'overrun'},
	]);
});

test('a file that is not a capture is refused with a usage error', async t => {
	const iterator = readTraceRaw(`${fixtures}readers/block-6.18.trace`)[Symbol.asyncIterator]();
	await t.throwsAsync(iterator.next(), {message: /not an ftrace-ts capture/});
});

test('recorded 6.18 capture decodes the dd writes with stacks', async t => {
	const {minor} = JSON.parse(readFileSync(`${fixtures}readers/block-6.18.json`, 'utf8')) as {minor: number};
	const events: TraceEvent[] = [];
	for await (const record of readTraceRaw(`${fixtures}readers/block-6.18.ftcap`)) {
		if (record.kind === 'event') {
			events.push(record);
		}
	}

	const issues = events.filter(e => e.event === 'block_rq_issue');
	t.deepEqual(issues.map(e => e.fields['sector']), [1600, 1616, 1632, 1648]);
	for (const e of issues) {
		t.like(e, {comm: 'dd', fields: {dev: (7 << 20) | minor, nr_sector: 16, bytes: 8192, comm: 'dd'}});
		t.true((e.stack?.length ?? 0) > 3);
		t.regex(e.stack![0]!, /^0xffff/);
	}

	t.false(events.some(e => e.event === 'kernel_stack'), 'stacks attached to their events');
});
