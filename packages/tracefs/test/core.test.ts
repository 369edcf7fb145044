import {readFileSync} from 'node:fs';
import test from 'ava';
import {
	TracefsError, chooseTracer, globToRegExp, matchErrorLog, parseErrorLog, parseEventFormat, parseEventId,
	parseFieldDeclaration, parseNeed, UndoJournal, validateFunctionGlob, validateName, validateValue,
	type Capabilities,
} from '../src/index.js';

const fixture = (name: string) => readFileSync(new URL(`../../test/fixtures/core/${name}`, import.meta.url), 'utf8');

test('block_rq_issue format (6.18, with ioprio) parses into typed fields', t => {
	const format = parseEventFormat(fixture('block_rq_issue.format'), 'block');
	t.is(format.name, 'block_rq_issue');
	t.is(format.system, 'block');
	t.true(format.id > 0);
	const byName = format.byName;
	t.deepEqual(format.fields.filter(field => field.common).map(field => field.name), ['common_type', 'common_flags', 'common_preempt_count', 'common_pid']);
	t.like(byName.get('sector'), {type: 'sector_t', offset: 16, size: 8, signed: false, isString: false});
	t.like(byName.get('ioprio'), {type: 'unsigned short', offset: 32, size: 2});
	t.like(byName.get('rwbs'), {type: 'char[10]', arrayLength: 10, isString: true, elementType: 'char'});
	t.like(byName.get('comm'), {arrayLength: 16, isString: true});
	t.like(byName.get('cmd'), {dataLoc: 'data', isString: true, size: 4, type: '__data_loc char[]'});
	t.like(byName.get('common_pid'), {signed: true, size: 4});
	t.true(format.printFormat.startsWith('%d,%d %s %u (%s) %llu + %u'));
	t.is(format.printArgs.length, 11);
	t.true(format.printArgs[7]!.startsWith('__print_symbolic('));
});

test('syscall format: pointer fields are flagged', t => {
	const format = parseEventFormat(fixture('sys_enter_openat.format'), 'syscalls');
	t.like(format.byName.get('filename'), {isPointer: true, isString: false, size: 8});
	t.like(format.byName.get('__syscall_nr'), {signed: true});
	t.is(format.printArgs.length, 4);
});

test('sched_switch and sched_process_exec formats parse', t => {
	const sw = parseEventFormat(fixture('sched_switch.format'), 'sched');
	t.like(sw.byName.get('prev_comm'), {isString: true, arrayLength: 16});
	t.like(sw.byName.get('next_pid'), {signed: true});
	t.true(sw.printArgs.some(arg => arg.includes('__print_flags')));
	const exec = parseEventFormat(fixture('sched_process_exec.format'), 'sched');
	t.like(exec.byName.get('filename'), {dataLoc: 'data', isString: true});
});

const declaration = test.macro({
	exec(t, decl: string, expected: Record<string, unknown>) {
		t.like(parseFieldDeclaration(decl), expected);
	},
	title: (_title, decl) => `field declaration: ${decl}`,
});
test(declaration, 'unsigned int nr_sector', {name: 'nr_sector', type: 'unsigned int'});
test(declaration, 'char comm[16]', {name: 'comm', type: 'char[16]', arrayLength: 16});
test(declaration, '__data_loc char[] name', {name: 'name', dataLoc: 'data', type: '__data_loc char[]', arrayLength: 0});
test(declaration, '__rel_loc u8[] buf', {name: 'buf', dataLoc: 'rel'});
test(declaration, 'const char * filename', {name: 'filename', isPointer: true});
test(declaration, 'unsigned long caller[8]', {name: 'caller', arrayLength: 8, elementType: 'unsigned long'});
test(declaration, 'u64 __data[0]', {name: '__data', arrayLength: 0});

test('a non-format text is refused', t => {
	t.throws(() => parseEventFormat('hello'), {message: /not an event format/});
});

test('error_log entries parse with message, command and caret', t => {
	const entries = parseErrorLog(fixture('error_log.txt'));
	t.is(entries.length, 2);
	t.like(entries[0], {location: 'event filter parse error', message: 'Field not found', command: 'bogus_field == 1', timestamp: '461.000763'});
	t.is(entries[0]!.caret, 12);
	t.is(entries[1]!.message, 'Invalid value (did you forget quotes)?');
	t.is(matchErrorLog(entries, 'bogus_field == 1')?.message, 'Field not found');
	t.is(matchErrorLog(entries, 'bogus_field == 1', entries), undefined, 'entries seen before the write are not blamed');
	t.is(matchErrorLog(entries, 'something else entirely'), undefined);
});

const refused = test.macro({
	exec(t, value: string, pattern: RegExp) {
		const error = t.throws(() => validateValue(value, 'filter'), {instanceOf: TracefsError});
		t.regex(error.message, pattern);
		t.true(error.usage);
	},
	title: (_title, value) => `refused: ${JSON.stringify(value)}`,
});
test(refused, 'pid == 1\nenable', /newline at position 8/);
test(refused, 'a\u0000b', /NUL/);
test(refused, 'x\r', /carriage return/);
test(refused, '\u001B[31m', /control character 0x1b/);

test('tabs and ordinary text pass validation', t => {
	t.is(validateValue('comm == "a b"\t&& pid > 1', 'filter'), 'comm == "a b"\t&& pid > 1');
});

test('function globs are validated', t => {
	t.is(validateFunctionGlob('vfs_*'), 'vfs_*');
	t.is(validateFunctionGlob('ext4_[rw]*'), 'ext4_[rw]*');
	t.is(validateFunctionGlob('*:mod:ext4'), '*:mod:ext4');
	t.throws(() => validateFunctionGlob('vfs_read; rm'), {message: /invalid character/});
	t.throws(() => validateFunctionGlob('a[b'), {message: /unbalanced/});
	t.throws(() => validateFunctionGlob(''), {message: /empty/});
	t.throws(() => validateFunctionGlob('vfs\nread'), {message: /newline/});
});

test('names are validated', t => {
	t.is(validateName('ftrace_ts_1', 'instance'), 'ftrace_ts_1');
	t.throws(() => validateName('../x', 'instance'));
	t.throws(() => validateName('a/b', 'instance'));
	t.throws(() => validateName('', 'instance'));
});

test('globToRegExp matches like the shell', t => {
	t.true(globToRegExp('vfs_*').test('vfs_read'));
	t.false(globToRegExp('vfs_*').test('do_vfs_read'));
	t.true(globToRegExp('*_read?').test('vfs_readv'));
	t.true(globToRegExp('ext4_[!a]*').test('ext4_sync'));
	t.false(globToRegExp('ext4_[!a]*').test('ext4_alloc'));
	t.true(globToRegExp('a.b').test('a.b'));
	t.false(globToRegExp('a.b').test('axb'));
});

test('event ids parse from system:event and system/event', t => {
	t.deepEqual(parseEventId('block:block_rq_issue'), {system: 'block', event: 'block_rq_issue'});
	t.deepEqual(parseEventId('sched/sched_switch'), {system: 'sched', event: 'sched_switch'});
	t.throws(() => parseEventId('block'), {message: /subsystem:event/});
	t.throws(() => parseEventId('block:../../x'), {instanceOf: TracefsError});
});

test('the undo journal runs newest first, never throws, runs once', async t => {
	const journal = new UndoJournal();
	const order: string[] = [];
	journal.record('a', () => {
		order.push('a');
	});
	journal.record('b', () => {
		throw new Error('b failed');
	});
	journal.record('c', async () => {
		order.push('c');
	});
	const first = await journal.restore();
	const second = await journal.restore();
	t.deepEqual(order, ['c', 'a']);
	t.is(first.restored, 2);
	t.is(first.failures.length, 1);
	t.is(first.failures[0]!.description, 'b');
	t.is(second, first);
	t.true(journal.isRestored);
});

const baseCaps: Capabilities = {
	root: '/sys/kernel/tracing', kernelRelease: '6.1.0', tracers: ['function_graph', 'function', 'nop'],
	functionTracer: true, functionGraphTracer: true, filterFunctions: true, kprobeEvents: true, uprobeEvents: true,
	dynamicEvents: true, functionProfiler: false, kprobeProfile: true, uprobeProfile: true, histTriggers: true,
	snapshot: true, instances: true, traceRaw: true, errorLog: true, syscallTracepoints: true, stackTraceTrigger: true,
	tracingThresh: true, maxGraphDepth: true, eventSystems: ['block', 'sched'], perfEvents: true, hardwarePmcs: true,
	ebpf: true, commands: {perf: true, stap: false, lttng: false, bpftrace: false},
};

test('choosing a tracer: the rule of SEED.md', t => {
	t.deepEqual(chooseTracer('live_tracing', baseCaps).recommended, ['ftrace', 'perf_events']);
	t.deepEqual(chooseTracer('counting', baseCaps).recommended, ['ftrace', 'perf_events']);
	t.regex(chooseTracer('counting', baseCaps).reason, /kprobe_profile/);
	t.deepEqual(chooseTracer('PMCs', baseCaps).recommended, ['perf_events']);
	t.deepEqual(chooseTracer('stack_profiling', baseCaps).recommended, ['perf_events']);
	t.deepEqual(chooseTracer('trace_dump_analyze', baseCaps).recommended, ['perf_events']);
	t.deepEqual(chooseTracer('in_kernel_summaries', baseCaps).recommended, ['eBPF']);
	t.regex(chooseTracer('in_kernel_summaries', baseCaps).reason, /hist triggers/);
});

test('choosing a tracer: built-ins insufficient -> SystemTap, LTTng', t => {
	const noPmu = {...baseCaps, hardwarePmcs: false};
	const pmcs = chooseTracer('PMCs', noPmu);
	t.true(pmcs.builtinsInsufficient);
	t.deepEqual(pmcs.recommended, ['SystemTap', 'LTTng']);
	const noBpf = chooseTracer('in_kernel_summaries', {...baseCaps, ebpf: false});
	t.deepEqual(noBpf.recommended, ['SystemTap', 'LTTng']);
	const noPerf = chooseTracer('stack_profiling', {...baseCaps, perfEvents: false});
	t.true(noPerf.builtinsInsufficient);
	const noFtrace = chooseTracer('live_tracing', {...baseCaps, tracers: [], perfEvents: true});
	t.deepEqual(noFtrace.usable, ['perf_events']);
});

test('choosing a tracer: counting without in-kernel counters says so', t => {
	const choice = chooseTracer('counting', {...baseCaps, kprobeProfile: false, histTriggers: false, functionProfiler: false});
	t.regex(choice.reason, /funccount cannot count/);
	t.false(choice.tools.includes('funccount'));
});

test('needs parse as typed', t => {
	t.is(parseNeed('live-tracing'), 'live_tracing');
	t.is(parseNeed('pmcs'), 'PMCs');
	t.is(parseNeed('in kernel summaries'), 'in_kernel_summaries');
	t.is(parseNeed('nothing'), undefined);
});
