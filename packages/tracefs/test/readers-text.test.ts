import {readFileSync, readdirSync} from 'node:fs';
import test from 'ava';
import {
	FormatCache, InBandLosses, decodeTraceText, readTraceTextFile, parseTraceLine, compileBodyDecoder, parseEventFormat, devMajor, devMinor, statsLosses,
	type TraceRecord, type TraceEvent, type GraphLine, type FunctionCall,
} from '../src/index.js';

const fixtures = new URL('../../test/fixtures/', import.meta.url).pathname;
const examples = '/work/shared/anchors/perf-tools-examples/';

function formatsOf(kernel: string): FormatCache {
	const dir = `${fixtures}formats/${kernel}/`;
	return FormatCache.fromFormats(readdirSync(dir).filter(name => name.endsWith('.format')).map(name => ({
		system: name.split('.')[0]!,
		text: readFileSync(dir + name, 'utf8'),
	})));
}

async function collect(input: string, formats?: FormatCache): Promise<TraceRecord[]> {
	const out: TraceRecord[] = [];
	for await (const record of decodeTraceText(input, {formats})) {
		out.push(record);
	}

	return out;
}

const events = (records: TraceRecord[]): TraceEvent[] => records.filter((r): r is TraceEvent => r.kind === 'event');

/** The trace lines of a perf-tools example file (lines that look like kernel output). */
function exampleLines(file: string, pattern: RegExp): string {
	return readFileSync(examples + file, 'utf8').split('\n').filter(line => pattern.test(line)).join('\n');
}

const block618 = formatsOf('6.18');
const block316 = formatsOf('3.16');

const bodyCases: Array<[string, FormatCache, string, string, Record<string, unknown>]> = [
	['6.18 block_rq_issue with ioprio', block618, 'block_rq_issue', '7,0 WS 4096 () 2048 + 8 be,0,4 [dd]',
		{dev: (7 << 20) | 0, rwbs: 'WS', bytes: 4096, cmd: '', sector: 2048, nr_sector: 8, ioprio: (2 << 13) | 4, comm: 'dd'}],
	['6.18 block_rq_issue, comm with spaces', block618, 'block_rq_issue', '259,3 R 16384 () 123456789 + 32 none,0,0 [my prog - x]',
		{dev: (259 << 20) | 3, rwbs: 'R', bytes: 16_384, sector: 123_456_789, nr_sector: 32, ioprio: 0, comm: 'my prog - x'}],
	['6.18 block_rq_complete', block618, 'block_rq_complete', '7,1 WS () 1600 + 16 be,0,4 [0]',
		{dev: (7 << 20) | 1, rwbs: 'WS', sector: 1600, nr_sector: 16, error: 0, ioprio: (2 << 13) | 4}],
	['3.16 block_rq_issue (no ioprio)', block316, 'block_rq_issue', '202,1 W 0 () 17039656 + 8 [supervise]',
		{dev: (202 << 20) | 1, rwbs: 'W', bytes: 0, sector: 17_039_656, nr_sector: 8, comm: 'supervise'}],
	['3.16 block_rq_complete (no bytes, errors)', block316, 'block_rq_complete', '202,1 R () 9357056 + 72 [-5]',
		{dev: (202 << 20) | 1, rwbs: 'R', sector: 9_357_056, nr_sector: 72, errors: -5}],
	['sched_switch prev_state keeps its printed form', block618, 'sched_switch',
		'prev_comm=kworker/0:1 x prev_pid=12 prev_prio=120 prev_state=R+ ==> next_comm=swapper/0 next_pid=0 next_prio=120',
		{prev_comm: 'kworker/0:1 x', prev_pid: 12, prev_prio: 120, prev_state: 'R+', next_comm: 'swapper/0', next_pid: 0, next_prio: 120}],
	['sched_process_exec', block618, 'sched_process_exec', 'filename=/usr/bin/my tool pid=42 old_pid=42',
		{filename: '/usr/bin/my tool', pid: 42, old_pid: 42}],
];

for (const [title, formats, name, body, expected] of bodyCases) {
	test(`print fmt decoding: ${title}`, t => {
		const format = formats.byName(name)!;
		const fields = compileBodyDecoder(format).decode(body);
		t.truthy(fields, `body should match ${format.printFormat}`);
		t.like(fields as Record<string, unknown>, expected);
	});
}

test('the 6.18 block_rq_issue body does not match the 3.16 format, and the reader falls back to key=value', async t => {
	const records = events(await collect('              dd-11231   [001] .....  1111.364728: block_rq_issue: 7,1 WS 8192 () 1600 + 16 be,0,4 [dd]', block316));
	t.is(records.length, 1);
	t.false(records[0]!.decoded);
	t.is(records[0]!.body, '7,1 WS 8192 () 1600 + 16 be,0,4 [dd]');
});

test('prefix: comm with spaces and dashes, tgid, flags present or absent, counter clock', t => {
	const cases: Array<[string, Record<string, unknown>]> = [
		['    jbd2/xvda1-8-212   [000] 2172149.749474: myprobe: (bio_alloc+0x0/0x30) arg1=0', {comm: 'jbd2/xvda1-8', pid: 212, cpu: 0, timestamp: 2_172_149.749_474}],
		['     flush-202:1-409   [000] 2172151.087815: myprobe: x', {comm: 'flush-202:1', pid: 409}],
		['            grep-8643    (   8643) [001] .....   536.084952: sched_process_exec: filename=/usr/bin/grep pid=8643 old_pid=8643', {comm: 'grep', pid: 8643, tgid: 8643, flags: '.....'}],
		['           <...>-29476 (-------) [001] d..1.  6910688.231101: do_sys_open: x', {comm: '<...>', pid: 29_476, tgid: undefined, flags: 'd..1.'}],
		[' a b - c-5 [003] d.h1. 12345678: e: x', {comm: 'a b - c', pid: 5, cpu: 3, timestampNs: 12_345_678n}],
	];
	for (const [line, expected] of cases) {
		const parsed = parseTraceLine(line);
		t.is(parsed.kind, 'body', line);
		if (parsed.kind === 'body') {
			t.like(parsed.context as unknown as Record<string, unknown>, expected, line);
		}
	}
});

test('perf-tools tpoint example: old-kernel block_rq_issue lines decode by name, stacks attach', async t => {
	const text = exampleLines('tpoint_example.txt', /^\s+\S.*\[\d{3}\]|^ => /);
	const records = await collect(text, block316);
	const issues = events(records).filter(r => r.event === 'block_rq_issue');
	t.true(issues.length >= 10);
	t.true(issues.every(r => r.decoded));
	const first = issues[0]!;
	t.is(first.comm, 'supervise');
	t.is(first.pid, 1692);
	t.is(devMajor(first.fields['dev']), 202);
	t.is(devMinor(first.fields['dev']), 1);
	t.like(first.fields, {rwbs: 'W', bytes: 0, sector: 17_039_656, nr_sector: 8, comm: 'supervise'});
	const cksum = issues.find(r => r.fields['sector'] === 9_357_056)!;
	t.like(cksum.fields, {rwbs: 'R', nr_sector: 72, comm: 'cksum'});
	const withStack = issues.filter(r => r.stack);
	t.true(withStack.length >= 3);
	t.is(withStack[0]!.stack![0], 'blk_peek_request');
	t.is(withStack[0]!.stack!.at(-1), 'system_call_fastpath');
	t.false(records.some(r => r.kind === 'stack'), 'every stack found its event');
	const inserts = events(records).filter(r => r.event === 'block_rq_insert');
	t.true(inserts.length > 0 && inserts.every(r => r.decoded && r.stack?.[0] === '__elv_add_request'));
});

test('perf-tools kprobe example: kprobe bodies decode with the probe format; unknown probes best effort', async t => {
	const text = exampleLines('kprobe_example.txt', /\[\d{3}\]/);
	const records = events(await collect(text, block316));
	const opens = records.filter(r => r.event === 'myopen' && r.body?.includes('filename='));
	t.true(opens.length > 5);
	t.true(opens.every(r => r.decoded));
	t.like(opens[0]!.fields, {__probe_ip: 'do_sys_open+0x0/0x220', filename: '/etc/ld.so.cache'});
	const rval = records.find(r => r.body?.includes('rval='))!;
	t.false(rval.decoded);
	t.is(rval.fields['rval'], 3);
	const regs = records.find(r => r.event === 'myprobe' && r.body?.includes('arg4='))!;
	t.is(regs.comm, 'supervise');
	t.is(regs.fields['arg3'], 0);
	t.is(typeof regs.fields['arg1'], 'string', 'bare hex without 0x stays text when no format says otherwise');
});

test('perf-tools functrace example: function lines with and without the flags column', async t => {
	const text = exampleLines('functrace_example.txt', /\[\d{3}\]/);
	const calls = (await collect(text)).filter((r): r is FunctionCall => r.kind === 'function');
	t.true(calls.length >= 15);
	t.like(calls[0], {func: 'do_nanosleep', parent: 'hrtimer_nanosleep', comm: 'svscan', pid: 1678, flags: '....'});
	const old = calls.find(c => c.pid === 11_789)!;
	t.is(old.flags, undefined);
	t.is(old.timestamp, 1_763_207.021_204);
});

test('perf-tools funcgraph and funcslower examples: depth, durations, markers, tails, switches, proc and time columns', async t => {
	const graph = (await collect(readFileSync(`${examples}funcgraph_example.txt`, 'utf8'))).filter((r): r is GraphLine => r.kind === 'graph');
	t.like(graph[0], {type: 'entry', func: 'do_nanosleep', depth: 0, cpu: 0});
	t.like(graph[4], {type: 'leaf', func: '_raw_spin_lock_irqsave', depth: 4, durationUs: 0.198});
	t.like(graph[5], {type: 'exit', depth: 3, durationUs: 0.908});
	t.truthy(graph.find(g => g.type === 'exit' && g.func === 'load_TLS_descriptor' && g.durationUs === 1.583));
	t.truthy(graph.find(g => g.type === 'switch' && g.from === 'platfor-3210' && g.to === 'vmstat-2854'));
	const timed = graph.find(g => g.timestamp !== undefined && g.func === 'finish_task_switch')!;
	t.like(timed, {type: 'entry', timestamp: 7_238_523.638_008, depth: 6});
	t.truthy(graph.find(g => g.type === 'exit' && g.func === 'vfs_read' && g.durationUs === 19_354_058));

	const slower = (await collect(readFileSync(`${examples}funcslower_example.txt`, 'utf8'))).filter((r): r is GraphLine => r.kind === 'graph');
	t.like(slower[0], {type: 'exit', func: 'ext3_readpages', marker: '!', durationUs: 8147.12, depth: 0});
	t.like(slower.find(g => g.pid !== undefined), {comm: 'cksum', pid: 26_695, marker: '!', durationUs: 8145.268, timestamp: 2_678_112.003_18});
});

test('graph markers, comments, irq arrows and retval tails on current kernels', async t => {
	const text = [
		' 1)               |  vfs_read() {',
		' 1) + 12.345 us   |    rw_verify_area();',
		' 1)               |    /* block_rq_issue: 7,0 WS 4096 () 2048 + 8 be,0,4 [dd] */',
		' 1)   ==========> |',
		' 1) $ 1234567 us  |  } /* vfs_read = 0x1000 */',
		' 1) @ 123456.7 us |  }',
		' 1) * 12345.67 us |  }',
		' 1) # 1234.567 us |  }',
	].join('\n');
	const graph = (await collect(text)).filter((r): r is GraphLine => r.kind === 'graph');
	t.deepEqual(graph.map(g => g.type), ['entry', 'leaf', 'comment', 'irq-entry', 'exit', 'exit', 'exit', 'exit']);
	t.like(graph[1], {marker: '+', durationUs: 12.345, depth: 1});
	t.is(graph[2]!.comment, 'block_rq_issue: 7,0 WS 4096 () 2048 + 8 be,0,4 [dd]');
	t.like(graph[4], {marker: '$', func: 'vfs_read', comment: '= 0x1000'});
	t.deepEqual(graph.slice(5).map(g => g.marker), ['@', '*', '#']);
});

test('lost markers, user stacks, orphan stacks, headers and syscalls', async t => {
	const text = `# tracer: nop
#
CPU:1 [LOST 23 EVENTS]
CPU:0 [LOST EVENTS]
        func_abc-25394 [000] d... 19603250.054056: <user stack trace>
 =>  <00000000004004f4>
 =>  <0000000000400527>
            grep-8628    [001] .....   536.079452: sys_openat -> 0xfffffffffffffffe
            grep-8628    [001] .....   536.079453: <stack trace>
 => ftrace_syscall_exit
            grep-8628    [001] .....   536.079458: sys_openat(dfd: 0xffffff9c, filename: 0x7ffe4470eab0, flags: 0x80000, mode: 0)
            bash-1       [000] .....   536.079460: sys_write(fd: 1, buf: 0x55aa, count: 0x3039)
`;
	const records = await collect(text, block618);
	t.like(records[0], {kind: 'lost', cpu: 1, count: 23, source: 'text'});
	t.like(records[1], {kind: 'lost', cpu: 0, count: undefined});
	t.like(records[2], {kind: 'stack', user: true, pid: 25_394, frames: ['<00000000004004f4>', '<0000000000400527>']});
	const [exit, enter, write] = events(records);
	t.like(exit, {event: 'sys_exit_openat', system: 'syscalls', fields: {ret: -2}, stack: ['ftrace_syscall_exit']});
	t.like(enter, {event: 'sys_enter_openat', fields: {dfd: 0xFF_FF_FF_9C, flags: 0x8_00_00, mode: 0, filename: 0x7F_FE_44_70_EA_B0}});
	t.like(write, {event: 'sys_enter_write', fields: {fd: 1, count: 12_345}});
});

test('stats losses at the end leave out what "[LOST n EVENTS]" lines reported', t => {
	const inBand = new InBandLosses();
	for (const line of ['CPU:1 [LOST 23 EVENTS]', 'CPU:1 [LOST 2 EVENTS]', 'CPU:0 [LOST EVENTS]']) {
		const parsed = parseTraceLine(line);
		if (parsed.kind === 'record') {
			inBand.note(parsed.record);
		}
	}

	const stats = (cpu: number, overrun: number, dropped = 0) => ({cpu, entries: 0, overrun, commitOverrun: 0, bytes: 0, dropped, read: 0});
	t.deepEqual([...statsLosses([stats(0, 0), stats(1, 100)], [stats(0, 9), stats(1, 125, 3)], inBand)], [
		{kind: 'lost', cpu: 0, count: 9, source: 'overrun'},
		{kind: 'lost', cpu: 1, count: 3, source: 'dropped'},
	]);
	t.deepEqual([...statsLosses(undefined, [stats(1, 30)], inBand)], [{kind: 'lost', cpu: 1, count: 5, source: 'overrun'}]);
});

test('unknown formats keep the raw body and split key=value', async t => {
	const [event] = events(await collect('  x-1 [000] .... 1.000001: foo_bar: a=1 b="two words" c=0x10 d=text'));
	t.like(event, {event: 'foo_bar', decoded: false, body: 'a=1 b="two words" c=0x10 d=text', fields: {a: 1, b: 'two words', c: 16, d: 'text'}});
});

test('recorded 6.18 trace file decodes with the 6.18 formats, stacks attached', async t => {
	const {minor} = JSON.parse(readFileSync(`${fixtures}readers/block-6.18.json`, 'utf8')) as {minor: number};
	const records: TraceRecord[] = [];
	for await (const record of readTraceTextFile(`${fixtures}readers/block-6.18.trace`, {formats: block618})) {
		records.push(record);
	}

	const issues = events(records).filter(r => r.event === 'block_rq_issue');
	t.deepEqual(issues.map(r => r.fields['sector']), [1600, 1616, 1632, 1648]);
	for (const issue of issues) {
		t.like(issue.fields, {dev: (7 << 20) | minor, nr_sector: 16, bytes: 8192, comm: 'dd'});
		t.regex(issue.fields['rwbs'] as string, /^W/);
		t.is(issue.stack?.[0], 'trace_event_raw_event_block_rq');
	}

	t.is(events(records).filter(r => r.event === 'block_rq_complete' && r.fields['error'] === 0).length, 4);
});

test('parseEventFormat round trip used by the decoder: print args of the 6.18 ioprio format', t => {
	const format = parseEventFormat(readFileSync(`${fixtures}formats/6.18/block.block_rq_issue.format`, 'utf8'), 'block');
	t.is(format.printArgs.length, 11);
	t.regex(compileBodyDecoder(format).pattern.source, /^\^/);
});

test('field plans say when a field is printed as high and low bits (dev as MAJOR,MINOR), and only then', t => {
	const plans = (text: string) => compileBodyDecoder(parseEventFormat(text, 'test')).fields;
	const issue = plans(readFileSync(`${fixtures}formats/6.18/block.block_rq_issue.format`, 'utf8'));
	t.deepEqual(issue.find(plan => plan.name === 'dev')?.highLow, {shift: 20, limit: 2 ** 32});
	// ioprio is printed in three parts, one through a table.
	t.is(issue.find(plan => plan.name === 'ioprio')?.highLow, undefined);
	t.is(issue.find(plan => plan.name === 'sector')?.highLow, undefined);
	const format = (print: string, signed = 0, size = 4) => `name: test
ID: 1
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:int v;	offset:8;	size:${size};	signed:${signed};

print fmt: ${print}
`;
	const plan = (print: string, signed?: number, size?: number) => plans(format(print, signed, size)).find(p => p.name === 'v')?.highLow;
	t.deepEqual(plan('"%u:%u", REC->v >> 8, REC->v & 0xff'), {shift: 8, limit: 2 ** 32});
	t.deepEqual(plan('"%d,%d", ((unsigned int) ((REC->v) >> 20)), ((unsigned int) ((REC->v) & ((1U << 20) - 1)))', 1), {shift: 20, limit: 2 ** 31});
	t.deepEqual(plan('"%u:%u", REC->v >> 8, REC->v & 0xff', 0, 8), {shift: 8, limit: 2 ** 53});
	// Low part masked short of the shift, parts the other way round, hex, a mask on the high part: not so.
	t.is(plan('"%u:%u", REC->v >> 8, REC->v & 0x7f'), undefined);
	t.is(plan('"%u:%u", REC->v & 0xff, REC->v >> 8'), undefined);
	t.is(plan('"%x:%x", REC->v >> 8, REC->v & 0xff'), undefined);
	t.is(plan('"%u:%u", (REC->v >> 8) & 0xf, REC->v & 0xff'), undefined);
	t.is(plan('"%u", REC->v'), undefined);
});

test('a line is cut at \\n only: \\r, U+2028 and U+2029 in a comm or a string field are data', async t => {
	const format = parseEventFormat(`name: probe
ID: 4242
format:
	field:unsigned short common_type;	offset:0;	size:2;	signed:0;
	field:unsigned char common_flags;	offset:2;	size:1;	signed:0;
	field:unsigned char common_preempt_count;	offset:3;	size:1;	signed:0;
	field:int common_pid;	offset:4;	size:4;	signed:1;

	field:unsigned long __probe_ip;	offset:8;	size:8;	signed:0;
	field:__data_loc char[] a0;	offset:16;	size:4;	signed:1;
	field:__data_loc char[] a1;	offset:20;	size:4;	signed:1;

print fmt: "(%lx) a0=\\"%s\\" a1=\\"%s\\"", REC->__probe_ip, __get_str(a0), __get_str(a1)
`, 'probes');
	const formats = FormatCache.fromFormats([format]);
	for (const odd of ['\r', '\r\t\u0003', '\u2028', 'a\u2029b', '\r\r']) {
		const text = `   x${odd}y-77      [001] DBZff 71524.781758: probe: (0x7f9c316d2ad0) a0="one${odd}" a1="two"\n`;
		const records: TraceRecord[] = [];
		// eslint-disable-next-line no-await-in-loop
		for await (const record of decodeTraceText(text, {formats})) {
			records.push(record);
		}

		t.is(records.length, 1, JSON.stringify(odd));
		const [event] = events(records);
		t.is(event?.comm, `x${odd}y`);
		t.is(event?.pid, 77);
		t.deepEqual(event?.fields, {__probe_ip: 0x7f_9c_31_6d_2a_d0, a0: `one${odd}`, a1: 'two'}, JSON.stringify(odd));
	}
});

